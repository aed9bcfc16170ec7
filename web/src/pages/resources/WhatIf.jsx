// The what-if control: changes to a copy of the live tree (POST /api/wcpd/clusters/{cluster}/resources),
// applied in order, never to the inventory. Each form adds one change after the server accepted the
// whole list, so a refused change shows the API's message and leaves the list as it was.
import React, { useState } from 'react';
import {
  ActionIcon, Button, Card, Group, List, NumberInput, SegmentedControl, Select, Stack, Tabs, Text,
  TextInput, Title,
} from '@mantine/core';
import { ErrorAlert } from '../../components.jsx';
import { flatten, formatMB, formatMHz, namespacePools } from './model.js';

const levels = ['LOW', 'NORMAL', 'HIGH', 'CUSTOM'];

// amount builds a drs.Amount from optional number inputs, or undefined when both are empty.
function amount(cpu, memory) {
  const out = {};
  if (cpu !== '' && cpu !== undefined && cpu !== null) out.cpu_mhz = Number(cpu);
  if (memory !== '' && memory !== undefined && memory !== null) out.memory_mb = Number(memory);
  return Object.keys(out).length ? out : undefined;
}

function sharesSpec(level, value) {
  if (level === 'CUSTOM') return { level, value: Number(value) || 0 };
  return { level };
}

function describeAmount(a) {
  if (!a) return '';
  const parts = [];
  if (a.cpu_mhz !== undefined) parts.push(`CPU ${formatMHz(a.cpu_mhz)}`);
  if (a.memory_mb !== undefined) parts.push(`memory ${formatMB(a.memory_mb)}`);
  return parts.join(', ');
}

function describeResources(r) {
  if (!r) return '';
  return [r.cpu && `CPU ${r.cpu}`, r.memory && `memory ${r.memory}`].filter(Boolean).join(', ');
}

// describeChange says in words what one change does, for the list of applied changes.
export function describeChange(c) {
  switch (c.action) {
    case 'ADD_NAMESPACES': {
      const n = c.node || {};
      const extra = [
        n.shares && `${n.shares.level} shares${n.shares.value ? ` (${n.shares.value})` : ''}`,
        n.limit && `limit ${describeAmount(n.limit)}`,
      ].filter(Boolean);
      return `Add ${c.count} namespace${c.count > 1 ? 's' : ''} named ${n.name || 'new-namespace'}-N${extra.length ? ` with ${extra.join(', ')}` : ''}`;
    }
    case 'ADD': {
      const ct = (c.node.containers || [])[0] || {};
      const req = describeResources(ct.requests);
      const lim = describeResources(ct.limits);
      return `Add pod ${c.node.name} to ${c.namespace}${req ? `, requests ${req}` : ''}${lim ? `, limits ${lim}` : ''}${!req && !lim ? ' (BestEffort)' : ''}`;
    }
    case 'SET': {
      const what = [
        c.shares && `shares ${c.shares.level}${c.shares.value ? ` ${c.shares.value}` : ''}`,
        c.reservation && `reservation ${describeAmount(c.reservation)}`,
        c.limit && `limit ${describeAmount(c.limit)}`,
      ].filter(Boolean);
      return `Set ${what.join(', ')} on ${c.path.replaceAll('%2F', '/')}`;
    }
    case 'REMOVE':
      return `Remove namespace ${c.namespace}`;
    default:
      return c.action;
  }
}

function useSubmit(apply) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (changes) => {
    setBusy(true);
    setError(null);
    try {
      await apply(changes);
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { error, busy, submit };
}

function AddNamespacesForm({ apply }) {
  const [count, setCount] = useState(1);
  const [name, setName] = useState('new-namespace');
  const [level, setLevel] = useState('NORMAL');
  const [custom, setCustom] = useState(4000);
  const [cpuLimit, setCpuLimit] = useState('');
  const [memoryLimit, setMemoryLimit] = useState('');
  const { error, busy, submit } = useSubmit(apply);
  const onSubmit = (e) => {
    e.preventDefault();
    const node = { name: name.trim() || 'new-namespace', type: 'RESOURCE_POOL', shares: sharesSpec(level, custom) };
    const limit = amount(cpuLimit, memoryLimit);
    if (limit) node.limit = limit;
    submit([{ action: 'ADD_NAMESPACES', count: Number(count) || 1, node }]);
  };
  return (
    <form onSubmit={onSubmit} aria-label="Add namespaces">
      <Stack gap="xs">
        <Group grow align="flex-start">
          <NumberInput label="How many" min={1} max={1000} value={count} onChange={setCount} />
          <TextInput label="Name prefix" value={name} onChange={(e) => setName(e.currentTarget.value)} />
        </Group>
        <Text size="sm" fw={500} id="ns-shares-label">Shares</Text>
        <SegmentedControl aria-labelledby="ns-shares-label" data={levels} value={level} onChange={setLevel} />
        {level === 'CUSTOM' && <NumberInput label="Custom shares" min={1} value={custom} onChange={setCustom} />}
        <Group grow align="flex-start">
          <NumberInput label="CPU limit (MHz)" placeholder="none" min={0} value={cpuLimit} onChange={setCpuLimit} />
          <NumberInput label="Memory limit (MB)" placeholder="none" min={0} value={memoryLimit} onChange={setMemoryLimit} />
        </Group>
        <ErrorAlert error={error} />
        <Group><Button type="submit" loading={busy}>Add namespaces</Button></Group>
      </Stack>
    </form>
  );
}

function AddPodForm({ apply, namespaces }) {
  const [namespace, setNamespace] = useState(null);
  const [name, setName] = useState('pod');
  const [count, setCount] = useState(1);
  const [req, setReq] = useState({ cpu: '', memory: '' });
  const [lim, setLim] = useState({ cpu: '', memory: '' });
  const { error, busy, submit } = useSubmit(apply);
  const target = namespace || namespaces[0] || null;
  const clean = (r) => {
    const out = {};
    if (r.cpu.trim()) out.cpu = r.cpu.trim();
    if (r.memory.trim()) out.memory = r.memory.trim();
    return Object.keys(out).length ? out : undefined;
  };
  const onSubmit = (e) => {
    e.preventDefault();
    const container = { name: 'main' };
    if (clean(req)) container.requests = clean(req);
    if (clean(lim)) container.limits = clean(lim);
    const n = Number(count) || 1;
    const base = name.trim() || 'pod';
    submit(Array.from({ length: n }, (_, i) => ({
      action: 'ADD',
      namespace: target,
      node: { name: n > 1 ? `${base}-${i + 1}` : base, type: 'POD', containers: [container] },
    })));
  };
  if (namespaces.length === 0) return <Text size="sm">The Supervisor has no namespace to add pods to; add one first.</Text>;
  return (
    <form onSubmit={onSubmit} aria-label="Add pods">
      <Stack gap="xs">
        <Group grow align="flex-start">
          <Select label="Namespace" data={namespaces} value={target} onChange={setNamespace} allowDeselect={false} />
          <TextInput label="Pod name" value={name} onChange={(e) => setName(e.currentTarget.value)} />
          <NumberInput label="How many" min={1} max={100} value={count} onChange={setCount} />
        </Group>
        <Group grow align="flex-start">
          <TextInput label="CPU request" placeholder="e.g. 500m" value={req.cpu} onChange={(e) => setReq({ ...req, cpu: e.currentTarget.value })} />
          <TextInput label="CPU limit" placeholder="e.g. 1" value={lim.cpu} onChange={(e) => setLim({ ...lim, cpu: e.currentTarget.value })} />
          <TextInput label="Memory request" placeholder="e.g. 1Gi" value={req.memory} onChange={(e) => setReq({ ...req, memory: e.currentTarget.value })} />
          <TextInput label="Memory limit" placeholder="e.g. 2Gi" value={lim.memory} onChange={(e) => setLim({ ...lim, memory: e.currentTarget.value })} />
        </Group>
        <Text size="xs" c="dimmed">
          No request or limit: BestEffort (1 vCPU, 512 MB). Requests equal to limits: Guaranteed, the requests reserved.
          Otherwise Burstable. The pod is sized as vSphere sizes a vSphere Pod.
        </Text>
        <ErrorAlert error={error} />
        <Group><Button type="submit" loading={busy}>Add pods</Button></Group>
      </Stack>
    </form>
  );
}

function SetNodeForm({ apply, paths }) {
  const [path, setPath] = useState(null);
  const [level, setLevel] = useState('HIGH');
  const [custom, setCustom] = useState(8000);
  const [cpuRes, setCpuRes] = useState('');
  const [memRes, setMemRes] = useState('');
  const [cpuLimit, setCpuLimit] = useState('');
  const [memoryLimit, setMemoryLimit] = useState('');
  const { error, busy, submit } = useSubmit(apply);
  const target = path || (paths[0] && paths[0].value) || null;
  const onSubmit = (e) => {
    e.preventDefault();
    const change = { action: 'SET', path: target };
    if (level !== 'KEEP') change.shares = sharesSpec(level, custom);
    const reservation = amount(cpuRes, memRes);
    if (reservation) change.reservation = reservation;
    const limit = amount(cpuLimit, memoryLimit);
    if (limit) change.limit = limit;
    submit([change]);
  };
  return (
    <form onSubmit={onSubmit} aria-label="Change a node">
      <Stack gap="xs">
        <Select label="Node" data={paths} value={target} onChange={setPath} searchable allowDeselect={false} />
        <Text size="sm" fw={500} id="node-shares-label">Shares</Text>
        <SegmentedControl aria-labelledby="node-shares-label" data={[{ value: 'KEEP', label: 'Keep' }, ...levels]} value={level} onChange={setLevel} />
        {level === 'CUSTOM' && <NumberInput label="Custom shares" min={1} value={custom} onChange={setCustom} />}
        <Group grow align="flex-start">
          <NumberInput label="CPU reservation (MHz)" placeholder="keep" min={0} value={cpuRes} onChange={setCpuRes} />
          <NumberInput label="Memory reservation (MB)" placeholder="keep" min={0} value={memRes} onChange={setMemRes} />
        </Group>
        <Group grow align="flex-start">
          <NumberInput label="CPU limit (MHz, -1 none)" placeholder="keep" min={-1} value={cpuLimit} onChange={setCpuLimit} />
          <NumberInput label="Memory limit (MB, -1 none)" placeholder="keep" min={-1} value={memoryLimit} onChange={setMemoryLimit} />
        </Group>
        <ErrorAlert error={error} />
        <Group><Button type="submit" loading={busy}>Apply to node</Button></Group>
      </Stack>
    </form>
  );
}

// WhatIfControl offers the changes for tree (the live tree, or the what-if's result so later
// changes can name what earlier ones added) and lists those applied.
export function WhatIfControl({ tree, changes, apply, remove, reset }) {
  const namespaces = namespacePools(tree).map((n) => n.name);
  const paths = flatten(tree).map(({ path }) => ({ value: path, label: path.replaceAll('%2F', '/') }));
  return (
    <Card withBorder padding="md">
      <Group justify="space-between" mb="xs">
        <Title order={3} size="h4">What if…</Title>
        {changes.length > 0 && <Button variant="default" onClick={reset}>Reset to live</Button>}
      </Group>
      <Text size="sm" c="dimmed" mb="sm">
        Changes apply to a copy of the live tree, in order; nothing in the inventory changes. The tree below then
        shows the result, with the live figures as thin grey bars and the difference beside each value.
      </Text>
      <Tabs defaultValue="namespaces" keepMounted={false}>
        <Tabs.List mb="sm">
          <Tabs.Tab value="namespaces">Add namespaces</Tabs.Tab>
          <Tabs.Tab value="pods">Add pods</Tabs.Tab>
          <Tabs.Tab value="node">Change shares, reservation, limit</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="namespaces"><AddNamespacesForm apply={apply} /></Tabs.Panel>
        <Tabs.Panel value="pods"><AddPodForm apply={apply} namespaces={namespaces} /></Tabs.Panel>
        <Tabs.Panel value="node"><SetNodeForm apply={apply} paths={paths} /></Tabs.Panel>
      </Tabs>
      {changes.length > 0 && (
        <>
          <Text size="sm" fw={600} mt="md">Applied changes</Text>
          <List type="ordered" size="sm" aria-label="Applied changes" spacing={4}>
            {changes.map((c, i) => (
              // Changes have no identity of their own: their position is what the API orders them by.
              <List.Item key={i}>
                <Group gap={6} wrap="nowrap">
                  <Text size="sm">{describeChange(c)}</Text>
                  <ActionIcon variant="subtle" color="red" size="sm" aria-label={`Undo change ${i + 1}: ${describeChange(c)}`} onClick={() => remove(i)}>
                    ✕
                  </ActionIcon>
                </Group>
              </List.Item>
            ))}
          </List>
        </>
      )}
    </Card>
  );
}
