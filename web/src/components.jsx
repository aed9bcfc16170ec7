// Small pieces every page uses, so each page looks and fails the same way.
import React from 'react';
import { Alert, Button, Center, Group, List, Loader, Table, Title } from '@mantine/core';

export function PageHeader({ title, children }) {
  return (
    <Group justify="space-between" mb="md">
      <Title order={2}>{title}</Title>
      <Group>{children}</Group>
    </Group>
  );
}

// QueryState shows a query's loading spinner or its error (the API's own message), else children.
export function QueryState({ query, children }) {
  if (query.isPending) {
    return (
      <Center p="xl">
        <Loader aria-label="Loading" />
      </Center>
    );
  }
  if (query.isError) return <ErrorAlert error={query.error} />;
  return children;
}

export function ErrorAlert({ error, title = 'The server refused' }) {
  if (!error) return null;
  return (
    <Alert color="red" title={title} role="alert" mb="md">
      {error.message}
      {error.details && error.details.length > 0 && (
        <List size="sm" mt="xs">
          {error.details.map((d) => <List.Item key={d}>{d}</List.Item>)}
        </List>
      )}
    </Alert>
  );
}

// FormActions ends a modal form: Cancel, then the submit button, its label the children.
export function FormActions({ onCancel, loading, children }) {
  return (
    <Group justify="flex-end">
      <Button variant="default" onClick={onCancel}>Cancel</Button>
      <Button type="submit" loading={loading}>{children}</Button>
    </Group>
  );
}

// Fields shows label/value pairs as a two-column table.
export function Fields({ rows }) {
  return (
    <Table withRowBorders={false} verticalSpacing={4}>
      <Table.Tbody>
        {rows
          .filter(([, v]) => v !== undefined && v !== null && v !== '')
          .map(([k, v]) => (
            <Table.Tr key={k}>
              <Table.Th w={220} fw={500}>{k}</Table.Th>
              <Table.Td>{v}</Table.Td>
            </Table.Tr>
          ))}
      </Table.Tbody>
    </Table>
  );
}

// mib and mhz format vCenter's units for people.
export function mib(v) {
  if (v === undefined || v === null) return '';
  return v >= 1024 ? `${(v / 1024).toFixed(v % 1024 ? 1 : 0)} GiB` : `${v} MiB`;
}
export function mhz(v) {
  if (v === undefined || v === null) return '';
  return v >= 1000 ? `${(v / 1000).toFixed(v % 1000 ? 2 : 0)} GHz` : `${v} MHz`;
}
