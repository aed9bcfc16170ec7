// One namespace: status, limits and live usage, storage, access, VM Service and how to reach it
// with kubectl. What is offered follows the caller: Namespaces.Manage changes everything, a role on
// the namespace what that role may (EDIT the description, OWNER also access and delete).
import React from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import {
  Alert, Anchor, Badge, Button, Card, Code, Group, Modal, SimpleGrid, Stack, Table, Text, Title,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { api, useApi, useApiMutation } from '../../api.js';
import { useSession } from '../../session.jsx';
import { ErrorAlert, Fields, PageHeader, QueryState, mhz, mib } from '../../components.jsx';
import { UsageBar } from './UsageBar.jsx';
import { AccessCard } from './Access.jsx';
import { EditNamespaceModal, EditVmServiceModal } from './EditNamespace.jsx';
import {
  CLUSTERS, USER_NAMESPACES, VM_CLASSES, namespacePath, statusColor, storageLimit, useCanManageNamespaces,
  useCanReadInventory, useInventoryNames, useMyRole,
} from './data.js';

export function NamespaceDetailPage() {
  const { name } = useParams();
  const query = useApi(namespacePath(name));
  return (
    <>
      <PageHeader title={`Namespace ${name}`}>
        <Anchor component={Link} to="/namespaces">All namespaces</Anchor>
      </PageHeader>
      <QueryState query={query}>{query.data && <NamespaceBody name={name} ns={query.data} />}</QueryState>
    </>
  );
}

function NamespaceBody({ name, ns }) {
  const manage = useCanManageNamespaces();
  const reader = useCanReadInventory();
  const role = useMyRole(manage ? null : name);
  const inventory = useInventoryNames();
  const [editing, edit] = useDisclosure(false);
  const [editingVm, editVm] = useDisclosure(false);
  const [deleting, del] = useDisclosure(false);
  const mayEditDescription = manage || role === 'EDIT' || role === 'OWNER';
  const mayDelete = manage || role === 'OWNER';
  const mayManageAccess = manage || role === 'OWNER';
  const rs = ns.resource_spec || {};
  const stats = ns.stats || {};
  const pods = usePodCount(reader ? ns.cluster : null, name);
  const removing = ns.config_status === 'REMOVING';
  return (
    <Stack>
      <Group justify="space-between">
        <Group>
          <Badge size="lg" color={statusColor(ns.config_status)} variant="light">{ns.config_status}</Badge>
          {ns.self_service_namespace && <Badge variant="outline">self-service</Badge>}
          {role && <Badge variant="outline" color="gray">your role: {role}</Badge>}
        </Group>
        <Group>
          {mayEditDescription && !removing && <Button variant="default" onClick={edit.open}>Edit namespace</Button>}
          {mayDelete && !removing && <Button color="red" variant="light" onClick={del.open}>Delete namespace</Button>}
        </Group>
      </Group>
      {(ns.messages || []).map((m, i) => (
        <Alert key={i} color={m.severity === 'ERROR' ? 'red' : m.severity === 'WARNING' ? 'yellow' : 'blue'} title={m.severity}>
          {m.details ? m.details.default_message : ''}
        </Alert>
      ))}
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Card withBorder>
          <Title order={3} size="h4" mb="xs">Summary</Title>
          <Fields rows={[
            ['Supervisor', inventory.clusterName[ns.cluster] ? `${inventory.clusterName[ns.cluster]} (${ns.cluster})` : ns.cluster],
            ['Description', ns.description || '—'],
            ['Created by', ns.creator ? `${ns.creator.subject}@${ns.creator.domain}` : undefined],
            ['Default container memory limit', rs.memory_limit_default !== undefined ? mib(rs.memory_limit_default) : undefined],
            ['Default container CPU limit', rs.cpu_limit_default !== undefined ? mhz(rs.cpu_limit_default) : undefined],
          ]} />
        </Card>
        <Card withBorder>
          <Title order={3} size="h4" mb="xs">Capacity and usage</Title>
          <Stack gap="sm">
            <UsageBar label="CPU" used={stats.cpu_used} limit={rs.cpu_limit} format={mhz} />
            <UsageBar label="Memory" used={stats.memory_used} limit={rs.memory_limit} format={mib} />
            <UsageBar label="Storage" used={stats.storage_used} limit={storageLimit(ns)} format={mib} />
            <UsageBar label="Pods" used={pods} limit={rs.pod_count} unit="pods" />
          </Stack>
        </Card>
      </SimpleGrid>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Card withBorder>
          <Title order={3} size="h4" mb="xs">Storage policies</Title>
          {(ns.storage_specs || []).length === 0 ? (
            <Text size="sm" c="dimmed">No storage policy: the namespace cannot hold persistent volumes.</Text>
          ) : (
            <Table aria-label="Storage policies">
              <Table.Thead><Table.Tr><Table.Th>Policy</Table.Th><Table.Th>Limit</Table.Th></Table.Tr></Table.Thead>
              <Table.Tbody>
                {ns.storage_specs.map((s) => (
                  <Table.Tr key={s.policy}>
                    <Table.Td>{inventory.policyName[s.policy] || s.policy}</Table.Td>
                    <Table.Td>{s.limit !== undefined ? mib(s.limit) : 'no limit'}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </Card>
        <VmServiceCard ns={ns} inventory={inventory} onEdit={manage && !removing ? editVm.open : null} />
      </SimpleGrid>
      <AccessCard name={name} ns={ns} mayManage={mayManageAccess && !removing} />
      <KubernetesCard name={name} ns={ns} />
      {mayEditDescription && (
        <EditNamespaceModal opened={editing} onClose={edit.close} name={name} ns={ns} full={manage} />
      )}
      {manage && <EditVmServiceModal opened={editingVm} onClose={editVm.close} name={name} ns={ns} />}
      {mayDelete && <DeleteNamespaceModal opened={deleting} onClose={del.close} name={name} />}
    </Stack>
  );
}

// usePodCount counts the pods in the namespace's pool from the resources analysis (readers of the
// inventory only); undefined when it cannot be read.
function usePodCount(cluster, name) {
  const tree = useApi(cluster ? `/api/wcpd/clusters/${cluster}/resources` : null, { refetchInterval: 5000 });
  if (!tree.data) return undefined;
  const find = (nodes) => {
    for (const n of nodes || []) {
      if (n.type === 'RESOURCE_POOL' && n.name === name) return n;
      const found = find(n.children);
      if (found) return found;
    }
    return null;
  };
  const count = (n) => (n.children || []).reduce((a, c) => a + (c.type === 'POD' ? 1 : 0) + count(c), 0);
  const pool = find(tree.data.children);
  return pool ? count(pool) : undefined;
}

function VmServiceCard({ ns, inventory, onEdit }) {
  const reader = useCanReadInventory();
  const classes = useApi(reader ? VM_CLASSES : null, { refetchInterval: 30000 });
  const byId = Object.fromEntries((classes.data || []).map((c) => [c.id, c]));
  const spec = ns.vm_service_spec || {};
  const names = spec.vm_classes || [];
  const libraries = [...new Set([...(spec.content_libraries || []), ...(ns.content_libraries || []).map((l) => l.content_library)])];
  return (
    <Card withBorder>
      <Group justify="space-between" mb="xs">
        <Title order={3} size="h4">VM Service</Title>
        {onEdit && <Button size="xs" variant="default" onClick={onEdit}>Edit VM Service</Button>}
      </Group>
      <Text size="sm" fw={500}>VM classes</Text>
      {names.length === 0 ? (
        <Text size="sm" c="dimmed" mb="sm">No VM class: VMs cannot be made here.</Text>
      ) : (
        <Table aria-label="VM classes" mb="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Class</Table.Th>
              {classes.data && <Table.Th>vCPUs</Table.Th>}
              {classes.data && <Table.Th>Memory</Table.Th>}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {names.map((c) => (
              <Table.Tr key={c}>
                <Table.Td>{c}</Table.Td>
                {classes.data && <Table.Td>{byId[c] ? byId[c].cpu_count : ''}</Table.Td>}
                {classes.data && <Table.Td>{byId[c] ? mib(byId[c].memory_MB) : ''}</Table.Td>}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {names.length > 0 && !classes.data && (
        <Text size="sm" c="dimmed" mb="sm">
          Each class's size is in the namespace's VirtualMachineClasses in Kubernetes (below).
        </Text>
      )}
      <Text size="sm" fw={500}>Content libraries</Text>
      {libraries.length === 0 ? (
        <Text size="sm" c="dimmed">None.</Text>
      ) : (
        <Group gap="xs">
          {libraries.map((l) => <Badge key={l} variant="light" tt="none">{inventory.libraryName[l] || l}</Badge>)}
        </Group>
      )}
    </Card>
  );
}

// KubernetesCard says where the namespace's Kubernetes API is and how to log in to it, as
// docs/kubernetes.md does: wcpd login writes a context named after each namespace.
function KubernetesCard({ name, ns }) {
  const { session } = useSession();
  const reader = useCanReadInventory();
  const mine = useApi(USER_NAMESPACES, { refetchInterval: 10000 });
  const cluster = useApi(reader && ns.cluster ? `${CLUSTERS}/${ns.cluster}` : null, { refetchInterval: 10000 });
  const entry = (mine.data || []).find((n) => n.namespace === name);
  const endpoint = (entry && entry.master_host) || (cluster.data && cluster.data.api_server_cluster_endpoint);
  const server = window.location.origin;
  return (
    <Card withBorder>
      <Title order={3} size="h4" mb="xs">Kubernetes</Title>
      <Fields rows={[['Supervisor API endpoint', endpoint || 'not ready yet'], ['kubectl context', name]]} />
      <Text size="sm" mt="sm" mb={4}>Log in with your vCenter user and use the namespace with kubectl:</Text>
      <Code block>
        {`WCPD_PASSWORD=... wcpd login --server ${server} -u ${session.user} --insecure-skip-tls-verify
kubectl config use-context ${name}
kubectl get virtualmachineclasses,virtualmachineimages -n ${name}`}
      </Code>
    </Card>
  );
}

function DeleteNamespaceModal({ opened, onClose, name }) {
  const navigate = useNavigate();
  const remove = useApiMutation(() => api('DELETE', namespacePath(name)), {
    onSuccess: () => {
      onClose();
      navigate('/namespaces');
    },
  });
  return (
    <Modal closeButtonProps={{ 'aria-label': 'Close' }} opened={opened} onClose={() => { remove.reset(); onClose(); }} title={`Delete namespace ${name}?`}>
      <Stack>
        <ErrorAlert error={remove.error} />
        <Text size="sm">
          The namespace is removed with its resource pool and its Kubernetes namespace; its name
          stays taken until the removal ends. This cannot be undone.
        </Text>
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose} data-autofocus>Cancel</Button>
          <Button color="red" loading={remove.isPending} onClick={() => remove.mutate()}>Delete {name}</Button>
        </Group>
      </Stack>
    </Modal>
  );
}
