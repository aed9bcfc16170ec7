// vSphere Namespaces: the list (with usage against limits) and, in ./namespaces/, a page per
// namespace. Administrators see every namespace; a DevOps user only those it holds a role on.
import React from 'react';
import { Link } from 'react-router-dom';
import { Anchor, Badge, Button, Stack, Table, Text } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { PageHeader, QueryState, mhz, mib } from '../components.jsx';
import { CreateNamespaceModal } from './namespaces/CreateNamespace.jsx';
import { NamespaceDetailPage } from './namespaces/NamespaceDetail.jsx';
import { SelfServiceSection } from './namespaces/SelfService.jsx';
import { UsageBar } from './namespaces/UsageBar.jsx';
import {
  statusColor, storageLimit, useCanManageNamespaces, useCanReadInventory, useInventoryNames, useNamespaceDetails,
  useNamespaceNames,
} from './namespaces/data.js';

export function NamespacesPage() {
  const manage = useCanManageNamespaces();
  const reader = useCanReadInventory();
  const [creating, { open, close }] = useDisclosure(false);
  const { query, names, summaries } = useNamespaceNames();
  const details = useNamespaceDetails(names);
  const inventory = useInventoryNames();
  return (
    <>
      <PageHeader title="Namespaces">
        {manage && <Button onClick={open}>Create namespace</Button>}
      </PageHeader>
      {!reader && (
        <Text c="dimmed" mb="md">
          The namespaces you hold a role on.
        </Text>
      )}
      <QueryState query={query}>
        {names.length === 0 ? (
          <Text>{reader ? 'No namespaces yet.' : 'You hold no role on any namespace.'}</Text>
        ) : (
          <Table.ScrollContainer minWidth={900}>
            <Table striped highlightOnHover aria-label="Namespaces">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Supervisor</Table.Th>
                  <Table.Th w={130}>Status</Table.Th>
                  <Table.Th>CPU</Table.Th>
                  <Table.Th>Memory</Table.Th>
                  <Table.Th>Storage</Table.Th>
                  <Table.Th>Description</Table.Th>
                  {!reader && <Table.Th>VM classes</Table.Th>}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {names.map((name) => {
                  const ns = { ...summaries[name], ...(details[name].data || {}) };
                  const stats = ns.stats || {};
                  const rs = ns.resource_spec || {};
                  const cluster = ns.cluster || '';
                  return (
                    <Table.Tr key={name}>
                      <Table.Td style={{ whiteSpace: 'nowrap' }}>
                        <Anchor component={Link} to={`/namespaces/${encodeURIComponent(name)}`}>{name}</Anchor>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{inventory.clusterName[cluster] || cluster}</Text>
                        {inventory.clusterName[cluster] && <Text size="xs" c="dimmed">{cluster}</Text>}
                        {ns.master_host && <Text size="xs" c="dimmed">API {ns.master_host}</Text>}
                      </Table.Td>
                      <Table.Td>
                        {ns.config_status && <Badge color={statusColor(ns.config_status)} variant="light">{ns.config_status}</Badge>}
                      </Table.Td>
                      <Table.Td><UsageBar compact label={`${name} CPU`} used={stats.cpu_used} limit={rs.cpu_limit} format={mhz} /></Table.Td>
                      <Table.Td><UsageBar compact label={`${name} memory`} used={stats.memory_used} limit={rs.memory_limit} format={mib} /></Table.Td>
                      <Table.Td><UsageBar compact label={`${name} storage`} used={stats.storage_used} limit={storageLimit(ns)} format={mib} /></Table.Td>
                      <Table.Td><Text size="sm" lineClamp={2}>{ns.description}</Text></Table.Td>
                      {!reader && (
                        // A DevOps user cannot open the VM classes page (it needs System.Read): show
                        // here the classes each of its namespaces offers.
                        <Table.Td>
                          <Text size="sm">{((ns.vm_service_spec || {}).vm_classes || []).join(', ')}</Text>
                        </Table.Td>
                      )}
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
      {reader && (
        <Stack mt="xl">
          <SelfServiceSection />
        </Stack>
      )}
      {manage && <CreateNamespaceModal opened={creating} onClose={close} />}
    </>
  );
}

export function NamespacePage() {
  return <NamespaceDetailPage />;
}
