// The create form: only choices the inventory offers (running Supervisors, existing policies,
// classes and libraries); the API validates the rest and its message is shown as it is.
import React from 'react';
import { useNavigate } from 'react-router-dom';
import { Modal, MultiSelect, NumberInput, Select, SimpleGrid, Stack, TextInput, Textarea } from '@mantine/core';
import { useForm } from '@mantine/form';
import { api, useApi, useApiMutation } from '../../api.js';
import { ErrorAlert, FormActions } from '../../components.jsx';
import { LIMITS, limitLabel, NAMESPACES, VM_CLASSES, limitsForCreate, useInventoryNames } from './data.js';

export function CreateNamespaceModal({ opened, onClose }) {
  const navigate = useNavigate();
  const names = useInventoryNames();
  const classes = useApi(opened ? VM_CLASSES : null, { refetchInterval: 30000 });
  const running = names.clusters.filter((c) => c.config_status === 'RUNNING');
  const form = useForm({
    initialValues: {
      namespace: '', cluster: null, description: '', policies: [], vm_classes: [], content_libraries: [],
      ...Object.fromEntries(LIMITS.map((l) => [l.key, ''])),
    },
    validate: {
      namespace: (v) => (v.trim() ? null : 'A namespace needs a name'),
      cluster: (v) => (v ? null : 'Pick the Supervisor to create it on'),
    },
  });
  const create = useApiMutation((values) => {
    const spec = { cluster: values.cluster, namespace: values.namespace.trim() };
    if (values.description) spec.description = values.description;
    const resources = limitsForCreate(values);
    if (Object.keys(resources).length) spec.resource_spec = resources;
    if (values.policies.length) spec.storage_specs = values.policies.map((policy) => ({ policy }));
    if (values.vm_classes.length || values.content_libraries.length) {
      spec.vm_service_spec = { vm_classes: values.vm_classes, content_libraries: values.content_libraries };
    }
    return api('POST', NAMESPACES, spec).then(() => spec.namespace);
  }, {
    onSuccess: (name) => {
      form.reset();
      onClose();
      navigate(`/namespaces/${encodeURIComponent(name)}`);
    },
  });
  const close = () => {
    create.reset();
    onClose();
  };
  return (
    <Modal closeButtonProps={{ 'aria-label': 'Close' }} opened={opened} onClose={close} title="Create namespace" size="lg">
      <form onSubmit={form.onSubmit((values) => create.mutate(values))}>
        <Stack>
          <ErrorAlert error={create.error} />
          <TextInput label="Name" description="Lower-case letters, digits and '-'" required data-autofocus {...form.getInputProps('namespace')} />
          <Select
            label="Supervisor"
            description="Only running Supervisors take namespaces"
            placeholder={running.length ? 'Pick a Supervisor' : 'No Supervisor is running'}
            required
            data={running.map((c) => ({ value: c.cluster, label: `${c.cluster_name} (${c.cluster})` }))}
            {...form.getInputProps('cluster')}
          />
          <Textarea label="Description" autosize minRows={1} {...form.getInputProps('description')} />
          <MultiSelect
            label="Storage policies"
            searchable
            data={names.policies.map((p) => ({ value: p.policy, label: p.name }))}
            {...form.getInputProps('policies')}
          />
          <MultiSelect
            label="VM classes"
            searchable
            data={(classes.data || []).map((c) => ({ value: c.id, label: `${c.id} (${c.cpu_count} vCPU, ${c.memory_MB / 1024} GiB)` }))}
            {...form.getInputProps('vm_classes')}
          />
          <MultiSelect
            label="Content libraries"
            description="VM images for the VM Service"
            data={names.libraries.map((l) => ({ value: l.id, label: l.name }))}
            {...form.getInputProps('content_libraries')}
          />
          <SimpleGrid cols={2}>
            {LIMITS.map((l) => (
              <NumberInput
                key={l.key}
                label={limitLabel(l)}
                placeholder="No limit"
                min={l.min}
                allowDecimal={false}
                allowNegative={false}
                clampBehavior="none"
                {...form.getInputProps(l.key)}
              />
            ))}
          </SimpleGrid>
          <FormActions onCancel={close} loading={create.isPending}>Create</FormActions>
        </Stack>
      </form>
    </Modal>
  );
}
