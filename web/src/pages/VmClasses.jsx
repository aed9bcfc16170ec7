// VM classes: every class with its size, reservations and devices, the config spec shown as
// hardware, and create/edit/delete for users the API lets change them (Namespaces.Configure).
import React, { useState } from 'react';
import {
  Badge, Button, Drawer, Group, JsonInput, Modal, NumberInput, Stack, Table, TagsInput, Text, TextInput, Textarea, Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { api, useApi, useApiMutation } from '../api.js';
import { ErrorAlert, Fields, FormActions, PageHeader, QueryState, mib } from '../components.jsx';
import { Messages, NS, StatusBadge, useMay } from './supervisors/common.jsx';
import { ConfigSpecView } from './supervisors/ConfigSpecView.jsx';

const CLASSES = `${NS}/virtual-machine-classes`;

function hex16(n) {
  // PCI ids come as unsigned or as the signed shorts vSphere reports.
  return `0x${((Number(n) + 0x10000) % 0x10000).toString(16).padStart(4, '0')}`;
}

function deviceLabels(c) {
  const d = c.devices || {};
  return [
    ...(d.vgpu_devices || []).map((g) => `vGPU ${g.profile_name}`),
    ...(d.dynamic_direct_path_IO_devices || []).map((p) => `PCI ${hex16(p.vendor_id)}:${hex16(p.device_id)}${p.custom_label ? ` ${p.custom_label}` : ''}`),
  ];
}

function reservation(v) {
  return v ? `${v}%` : 'none';
}

export function VmClassesPage() {
  const may = useMay();
  const canManage = may('manage_vm_classes', 'Namespaces.Configure');
  const classes = useApi(CLASSES);
  const [shown, setShown] = useState(null);
  const [editing, setEditing] = useState(null); // null: closed; {}: create; a class: edit
  const [deleting, setDeleting] = useState(null);
  const list = classes.data || [];
  const current = shown && list.find((c) => c.id === shown);

  return (
    <>
      <PageHeader title="VM classes">
        {canManage && <Button onClick={() => setEditing({})}>Create VM class</Button>}
      </PageHeader>
      <QueryState query={classes}>
        <Table.ScrollContainer minWidth={900}>
          <Table striped highlightOnHover aria-label="VM classes">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Class</Table.Th>
                <Table.Th>vCPUs</Table.Th>
                <Table.Th>Memory</Table.Th>
                <Table.Th>CPU reservation</Table.Th>
                <Table.Th>Memory reservation</Table.Th>
                <Table.Th>Devices</Table.Th>
                <Table.Th>Namespaces</Table.Th>
                <Table.Th>VMs</Table.Th>
                <Table.Th>Status</Table.Th>
                {canManage && <Table.Th><Text span size="sm" fw={700}>Actions</Text></Table.Th>}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.map((c) => (
                <Table.Tr key={c.id}>
                  <Table.Td>
                    <Button variant="subtle" size="compact-sm" onClick={() => setShown(c.id)} aria-label={`Show ${c.id}`}>{c.id}</Button>
                    {c.description && <Text size="xs" c="dimmed" pl={8}>{c.description}</Text>}
                  </Table.Td>
                  <Table.Td>{c.cpu_count}</Table.Td>
                  <Table.Td>{mib(c.memory_MB)}</Table.Td>
                  <Table.Td>{reservation(c.cpu_reservation)}</Table.Td>
                  <Table.Td>{reservation(c.memory_reservation)}</Table.Td>
                  <Table.Td>
                    <Group gap={4}>
                      {deviceLabels(c).map((d) => <Badge key={d} variant="light" tt="none">{d}</Badge>)}
                      {c.config_spec && <Badge variant="outline" color="gray" tt="none">config spec</Badge>}
                    </Group>
                  </Table.Td>
                  <Table.Td>{(c.namespaces || []).length}</Table.Td>
                  <Table.Td>{(c.vms || []).length}</Table.Td>
                  <Table.Td><StatusBadge value={c.config_status} label={`${c.id} status`} /></Table.Td>
                  {canManage && (
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        <Button size="compact-sm" variant="default" onClick={() => setEditing(c)} aria-label={`Edit ${c.id}`}
                          disabled={c.config_status === 'REMOVING'}>Edit</Button>
                        <Button size="compact-sm" variant="light" color="red" onClick={() => setDeleting(c.id)} aria-label={`Delete ${c.id}`}>Delete</Button>
                      </Group>
                    </Table.Td>
                  )}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </QueryState>
      <Drawer opened={!!current} onClose={() => setShown(null)} position="right" size="xl" title={current ? `VM class ${current.id}` : ''}>
        {current && <ClassDetails vmClass={current} />}
      </Drawer>
      {editing && <ClassForm vmClass={editing.id ? editing : null} onClose={() => setEditing(null)} />}
      {deleting && <DeleteClass id={deleting} onClose={() => setDeleting(null)} />}
    </>
  );
}

function ClassDetails({ vmClass: c }) {
  const devices = c.devices || {};
  return (
    <Stack>
      <Fields
        rows={[
          ['Description', c.description],
          ['vCPUs', c.cpu_count],
          ['Memory', mib(c.memory_MB)],
          ['CPU reservation', reservation(c.cpu_reservation)],
          ['Memory reservation', reservation(c.memory_reservation)],
          ['vGPU profiles', (devices.vgpu_devices || []).map((g) => g.profile_name).join(', ')],
          ['DirectPath I/O devices', (devices.dynamic_direct_path_IO_devices || [])
            .map((p) => `vendor ${hex16(p.vendor_id)}, device ${hex16(p.device_id)}${p.custom_label ? ` (${p.custom_label})` : ''}`).join('; ')],
          ['Instance storage', c.instance_storage && `${c.instance_storage.policy}: ${(c.instance_storage.volumes || []).map((v) => mib(v.size)).join(', ')}`],
          ['Offered by namespaces', (c.namespaces || []).join(', ') || 'none'],
          ['Used by VMs', (c.vms || []).join(', ') || 'none'],
          ['Status', <StatusBadge key="s" value={c.config_status} />],
        ]}
      />
      <Messages messages={c.messages} />
      <Title order={3} size="h5">Config spec</Title>
      <ConfigSpecView spec={c.config_spec} />
    </Stack>
  );
}

// ClassForm creates a class (vmClass null) or updates one; an update sends only what changed, since
// the API's update is a PATCH.
function ClassForm({ vmClass, onClose }) {
  const editing = !!vmClass;
  const form = useForm({
    initialValues: {
      id: vmClass ? vmClass.id : '',
      description: (vmClass && vmClass.description) || '',
      cpu_count: vmClass ? vmClass.cpu_count : 2,
      memory_MB: vmClass ? vmClass.memory_MB : 4096,
      cpu_reservation: (vmClass && vmClass.cpu_reservation) || 0,
      memory_reservation: (vmClass && vmClass.memory_reservation) || 0,
      vgpu: ((vmClass && vmClass.devices && vmClass.devices.vgpu_devices) || []).map((g) => g.profile_name),
      config_spec: vmClass && vmClass.config_spec ? JSON.stringify(vmClass.config_spec, null, 2) : '',
    },
  });
  const save = useApiMutation((v) => {
    const spec = {
      description: v.description,
      cpu_count: v.cpu_count,
      memory_MB: v.memory_MB,
      cpu_reservation: v.cpu_reservation,
      memory_reservation: v.memory_reservation,
      devices: { vgpu_devices: v.vgpu.map((profile_name) => ({ profile_name })) },
    };
    if (v.config_spec.trim()) spec.config_spec = JSON.parse(v.config_spec);
    if (editing) return api('PATCH', `${CLASSES}/${vmClass.id}`, spec);
    return api('POST', CLASSES, { id: v.id, ...spec });
  }, { onSuccess: onClose });
  return (
    <Modal opened onClose={onClose} title={editing ? `Edit VM class ${vmClass.id}` : 'Create VM class'} size="lg">
      <form onSubmit={form.onSubmit((v) => save.mutate(v))}>
        <Stack>
          {!editing && <TextInput label="Name" description="A DNS label: a-z, 0-9 and -" required data-autofocus {...form.getInputProps('id')} />}
          <Textarea label="Description" autosize {...form.getInputProps('description')} />
          <Group grow>
            <NumberInput label="vCPUs" min={1} required {...form.getInputProps('cpu_count')} />
            <NumberInput label="Memory (MB)" min={1} step={1024} required {...form.getInputProps('memory_MB')} />
          </Group>
          <Group grow>
            <NumberInput label="CPU reservation (%)" min={0} max={100} {...form.getInputProps('cpu_reservation')} />
            <NumberInput label="Memory reservation (%)" min={0} max={100} {...form.getInputProps('memory_reservation')} />
          </Group>
          <TagsInput label="vGPU profiles" description="e.g. grid_t4-4q; a class with devices reserves all its memory" {...form.getInputProps('vgpu')} />
          <JsonInput label="Config spec (vSphere API JSON, optional)" autosize minRows={4} maxRows={16} validationError="Not valid JSON"
            formatOnBlur {...form.getInputProps('config_spec')} />
          <ErrorAlert error={save.error} title={editing ? 'Update refused' : 'Create refused'} />
          <FormActions onCancel={onClose} loading={save.isPending}>{editing ? 'Save' : 'Create'}</FormActions>
        </Stack>
      </form>
    </Modal>
  );
}

function DeleteClass({ id, onClose }) {
  const remove = useApiMutation(() => api('DELETE', `${CLASSES}/${id}`), { onSuccess: onClose });
  return (
    <Modal opened onClose={onClose} title={`Delete VM class ${id}?`}>
      <Stack>
        <Text size="sm">Namespaces stop offering it at once; a class that VMs still use is removed when the last of them is gone.</Text>
        <ErrorAlert error={remove.error} title="Delete refused" />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>Cancel</Button>
          <Button color="red" onClick={() => remove.mutate()} loading={remove.isPending}>Delete</Button>
        </Group>
      </Stack>
    </Modal>
  );
}
