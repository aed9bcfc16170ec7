// A namespace's access list: who holds which role, and (for Namespaces.Manage or the OWNER role)
// adding, changing and removing entries one principal at a time, as the access operations do.
import React from 'react';
import { Button, Card, Group, Select, Table, Text, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { api, useApiMutation } from '../../api.js';
import { ErrorAlert } from '../../components.jsx';
import { ROLES, accessPath } from './data.js';

export function AccessCard({ name, ns, mayManage }) {
  const entries = ns.access_list || [];
  const change = useApiMutation(({ entry, role }) =>
    api('PUT', accessPath(name, entry.domain, entry.subject, entry.subject_type), { role }));
  const remove = useApiMutation((entry) =>
    api('DELETE', accessPath(name, entry.domain, entry.subject, entry.subject_type)));
  const form = useForm({
    initialValues: { subject_type: 'USER', subject: '', domain: 'vsphere.local', role: 'VIEW' },
    validate: { subject: (v) => (v.trim() ? null : 'Name a user or group') },
  });
  const add = useApiMutation((v) =>
    api('POST', accessPath(name, v.domain.trim(), v.subject.trim(), v.subject_type), { role: v.role }),
  { onSuccess: () => form.reset() });
  const error = change.error || remove.error || add.error;
  return (
    <Card withBorder>
      <Title order={3} size="h4" mb="xs">Access</Title>
      <ErrorAlert error={error} />
      {entries.length === 0 ? (
        <Text size="sm" c="dimmed" mb="sm">No one holds a role here; only vCenter administrators reach it.</Text>
      ) : (
        <Table aria-label="Access" mb="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Subject</Table.Th>
              <Table.Th>Type</Table.Th>
              <Table.Th>Domain</Table.Th>
              <Table.Th>Role</Table.Th>
              {mayManage && <Table.Th>Remove</Table.Th>}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {entries.map((e) => (
              <Table.Tr key={`${e.subject_type}/${e.domain}/${e.subject}`}>
                <Table.Td>{e.subject}</Table.Td>
                <Table.Td>{e.subject_type === 'GROUP' ? 'group' : 'user'}</Table.Td>
                <Table.Td>{e.domain}</Table.Td>
                <Table.Td>
                  {mayManage ? (
                    <Select
                      size="xs"
                      w={120}
                      aria-label={`Role of ${e.subject}`}
                      data={ROLES}
                      value={e.role}
                      allowDeselect={false}
                      onChange={(role) => role && role !== e.role && change.mutate({ entry: e, role })}
                    />
                  ) : (
                    e.role
                  )}
                </Table.Td>
                {mayManage && (
                  <Table.Td>
                    <Button size="xs" variant="subtle" color="red" aria-label={`Remove ${e.subject}`}
                      loading={remove.isPending && remove.variables === e} onClick={() => remove.mutate(e)}>
                      Remove
                    </Button>
                  </Table.Td>
                )}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {mayManage && (
        <form onSubmit={form.onSubmit((v) => add.mutate(v))} aria-label="Add access">
          <Group align="flex-end" gap="xs">
            <Select label="Type" w={110} data={[{ value: 'USER', label: 'User' }, { value: 'GROUP', label: 'Group' }]}
              allowDeselect={false} {...form.getInputProps('subject_type')} />
            <TextInput label="User or group" placeholder="devops1" {...form.getInputProps('subject')} />
            <TextInput label="Domain" w={150} {...form.getInputProps('domain')} />
            <Select label="Role" w={110} data={ROLES} allowDeselect={false} {...form.getInputProps('role')} />
            <Button type="submit" loading={add.isPending}>Grant access</Button>
          </Group>
        </form>
      )}
    </Card>
  );
}
