// Namespace self-service per Supervisor: whether DevOps users may make their own namespaces, from
// which template, and (with Namespaces.Configure) switching it on or off. A Supervisor without a
// template is activated through a small template form; the template's other settings are edited
// through the API.
import React, { useState } from 'react';
import { Badge, Button, Group, Modal, MultiSelect, NumberInput, Stack, Table, TagsInput, Text, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQueries } from '@tanstack/react-query';
import { api, useApi, useApiMutation } from '../../api.js';
import { useSession } from '../../session.jsx';
import { ErrorAlert, FormActions, QueryState } from '../../components.jsx';
import { SELF_SERVICE, VM_CLASSES, statusColor, useInventoryNames } from './data.js';

const templatesPath = (cluster) => `/api/vcenter/namespaces/namespace-templates/clusters/${cluster}`;

export function SelfServiceSection() {
  const { session, can } = useSession();
  const configure = session.may ? !!session.may.manage_self_service : can('Namespaces.Configure');
  const list = useApi(SELF_SERVICE);
  const inventory = useInventoryNames();
  const clusters = (list.data || []).map((s) => s.cluster);
  const templates = useQueries({
    queries: clusters.map((c) => ({ queryKey: [templatesPath(c)], queryFn: () => api('GET', templatesPath(c)) })),
  });
  const [activating, setActivating] = useState(null);
  const action = useApiMutation(({ cluster, verb }) => api('POST', `${SELF_SERVICE}/${cluster}?action=${verb}`));
  return (
    <section aria-labelledby="self-service-title">
      <Title order={3} id="self-service-title" mb="xs">Namespace self-service</Title>
      <Text size="sm" c="dimmed" mb="sm">
        DevOps users named in a Supervisor's template may create and delete their own namespaces there.
      </Text>
      <ErrorAlert error={action.error} />
      <QueryState query={list}>
        {clusters.length === 0 ? (
          <Text>No Supervisor is enabled.</Text>
        ) : (
          <Table aria-label="Namespace self-service">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Supervisor</Table.Th>
                <Table.Th>Self-service</Table.Th>
                <Table.Th>Template</Table.Th>
                {configure && <Table.Th>Actions</Table.Th>}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(list.data || []).map((s, i) => {
                const template = (templates[i].data || [])[0];
                const name = inventory.clusterName[s.cluster] || s.cluster;
                // Activated self-service is CONFIGURING, then RUNNING (or ERROR); DEACTIVATED when off.
                const active = s.status !== 'DEACTIVATED';
                return (
                  <Table.Tr key={s.cluster}>
                    <Table.Td>{name}</Table.Td>
                    <Table.Td>
                      <Badge variant="light" color={statusColor(s.status)}>{s.status}</Badge>
                    </Table.Td>
                    <Table.Td>{template ? template.template : <Text size="sm" c="dimmed">none</Text>}</Table.Td>
                    {configure && (
                      <Table.Td>
                        {active ? (
                          <Button size="xs" variant="default" loading={action.isPending}
                            onClick={() => action.mutate({ cluster: s.cluster, verb: 'deactivate' })}>
                            Deactivate self-service on {name}
                          </Button>
                        ) : template ? (
                          <Button size="xs" loading={action.isPending}
                            onClick={() => action.mutate({ cluster: s.cluster, verb: 'activate' })}>
                            Activate self-service on {name}
                          </Button>
                        ) : (
                          <Button size="xs" onClick={() => setActivating(s.cluster)}>
                            Activate self-service on {name}
                          </Button>
                        )}
                      </Table.Td>
                    )}
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        )}
      </QueryState>
      {configure && (
        <ActivateWithTemplateModal cluster={activating} clusterName={inventory.clusterName[activating] || activating}
          onClose={() => setActivating(null)} />
      )}
    </section>
  );
}

// ActivateWithTemplateModal makes the Supervisor's one template and activates self-service.
function ActivateWithTemplateModal({ cluster, clusterName, onClose }) {
  const inventory = useInventoryNames();
  const classes = useApi(cluster ? VM_CLASSES : null, { refetchInterval: 30000 });
  const form = useForm({
    initialValues: { template: '', users: [], policies: [], vm_classes: [], memory_limit: '', cpu_limit: '' },
    validate: {
      template: (v) => (v.trim() ? null : 'The template needs a name'),
      policies: (v) => (v.length ? null : 'Pick at least one storage policy'),
    },
  });
  const activate = useApiMutation((v) => {
    const resources = {};
    if (v.cpu_limit !== '') resources.cpu_limit = Number(v.cpu_limit);
    if (v.memory_limit !== '') resources.memory_limit = Number(v.memory_limit);
    return api('POST', `${SELF_SERVICE}/${cluster}?action=activateWithTemplate`, {
      template: v.template.trim(),
      permissions: v.users.map((u) => ({ subject_type: 'USER', subject: u.split('@')[0], domain: 'vsphere.local' })),
      resource_spec: resources,
      storage_specs: v.policies.map((policy) => ({ policy })),
      vm_service_spec: { vm_classes: v.vm_classes, content_libraries: [] },
    });
  }, { onSuccess: () => { form.reset(); onClose(); } });
  const close = () => {
    activate.reset();
    onClose();
  };
  return (
    <Modal closeButtonProps={{ 'aria-label': 'Close' }} opened={!!cluster} onClose={close} title={`Activate self-service on ${clusterName}`} size="lg">
      <form onSubmit={form.onSubmit((v) => activate.mutate(v))}>
        <Stack>
          <ErrorAlert error={activate.error} />
          <TextInput label="Template name" description="It cannot change later" required data-autofocus {...form.getInputProps('template')} />
          <TagsInput label="Users who may use it" description="vsphere.local users; press Enter after each" {...form.getInputProps('users')} />
          <MultiSelect label="Storage policies" required data={inventory.policies.map((p) => ({ value: p.policy, label: p.name }))}
            {...form.getInputProps('policies')} />
          <MultiSelect label="VM classes" searchable data={(classes.data || []).map((c) => c.id)} {...form.getInputProps('vm_classes')} />
          <Group grow>
            <NumberInput label="CPU budget per user (MHz)" placeholder="No limit" min={10} allowDecimal={false} {...form.getInputProps('cpu_limit')} />
            <NumberInput label="Memory budget per user (MiB)" placeholder="No limit" min={1} allowDecimal={false} {...form.getInputProps('memory_limit')} />
          </Group>
          <FormActions onCancel={close} loading={activate.isPending}>Activate</FormActions>
        </Stack>
      </form>
    </Modal>
  );
}
