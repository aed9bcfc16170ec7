// The analysis as a tree table: cluster → Namespaces pool (control plane VMs, one pool per
// namespace) → VMs and vSphere Pods, each with its share of its siblings and its CPU and memory
// entitlement bars. In a what-if it shows the tree after the changes and how each figure moved.
import React, { useState } from 'react';
import { ActionIcon, Badge, Group, Table, Text } from '@mantine/core';
import { EntitlementBar } from './EntitlementBar.jsx';
import { byPath, flatten, formatPercent, formatShares, resources, sizeOf } from './model.js';

const typeLabels = { RESOURCE_POOL: 'Pool', VM: 'VM', POD: 'Pod' };

function SharesCell({ node, before, resource }) {
  const r = resources[resource];
  const moved = before && Math.abs(before[r.percent] - node[r.percent]) >= 0.005;
  return (
    <>
      <Text size="sm" fw={600}>{formatPercent(node[r.percent])}</Text>
      <Text size="xs" c="dimmed">{formatShares(node[r.shares])} shares</Text>
      {moved && <Text size="xs" c="dimmed">was {formatPercent(before[r.percent])}</Text>}
    </>
  );
}

// AnalysisTable draws analysis; before (a what-if's live tree) adds the comparison. Each node carries
// its own limit (and reservation) as the model was given them, so every VM, pod and pool gets its
// limit marker, a what-if's included.
export function AnalysisTable({ analysis, before }) {
  const [collapsed, setCollapsed] = useState(() => new Set());
  const beforeIndex = before ? byPath(before) : null;
  const rows = flatten(analysis, collapsed);
  const perVCPU = analysis.capacity.cpu_mhz_per_vcpu;
  const toggle = (path) => {
    setCollapsed((old) => {
      const next = new Set(old);
      if (next.has(path)) next.delete(path);
      else next.add(path);
      return next;
    });
  };
  return (
    <Table.ScrollContainer minWidth={960}>
      <Table aria-label="Resource analysis" verticalSpacing={6} highlightOnHover>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th w={110}>CPU share</Table.Th>
            <Table.Th>CPU entitlement</Table.Th>
            <Table.Th w={120}>Memory share</Table.Th>
            <Table.Th>Memory entitlement</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          <Table.Tr>
            <Table.Td colSpan={5}>
              <Text size="sm" fw={600}>
                Cluster {analysis.cluster}: {resources.cpu.format(analysis.capacity.cpu_mhz)} CPU,{' '}
                {resources.memory.format(analysis.capacity.memory_mb)} memory; reserved{' '}
                {resources.cpu.format(analysis.cpu_reserved_mhz)} and {resources.memory.format(analysis.memory_reserved_mb)}
              </Text>
            </Table.Td>
          </Table.Tr>
          {rows.map(({ node, depth, path, parent }) => {
            const displayPath = path.replaceAll('%2F', '/');
            const prior = beforeIndex ? beforeIndex.get(path) : null;
            const priorNode = prior && prior.node;
            const added = beforeIndex && !prior;
            const hasChildren = node.children && node.children.length > 0;
            const open = !collapsed.has(path);
            const size = sizeOf(node, perVCPU);
            return (
              <Table.Tr key={path} data-path={displayPath}>
                <Table.Td>
                  <Group gap={6} wrap="nowrap" pl={depth * 22}>
                    {hasChildren ? (
                      <ActionIcon
                        variant="subtle"
                        size="sm"
                        aria-expanded={open}
                        aria-label={`${open ? 'Collapse' : 'Expand'} ${displayPath}`}
                        onClick={() => toggle(path)}
                      >
                        {open ? '▾' : '▸'}
                      </ActionIcon>
                    ) : (
                      <span style={{ width: 22, display: 'inline-block' }} />
                    )}
                    <div>
                      <Group gap={4} wrap="wrap">
                        <Text size="sm" fw={node.type === 'RESOURCE_POOL' ? 600 : 400}>{node.name}</Text>
                        <Badge size="xs" variant="light" color="gray">{typeLabels[node.type] || node.type}</Badge>
                        {node.qos_class && <Badge size="xs" variant="light">{node.qos_class}</Badge>}
                        {added && <Badge size="xs" color="violet">what-if</Badge>}
                        {node.warnings && node.warnings.length > 0 && (
                          <Badge size="xs" color="yellow" variant="light">{node.warnings.length} warning{node.warnings.length > 1 ? 's' : ''}</Badge>
                        )}
                      </Group>
                      {size && (
                        <Text size="xs" c="dimmed">{node.size.cpu_count} vCPU · {resources.memory.format(node.size.memory_mb)}</Text>
                      )}
                    </div>
                  </Group>
                </Table.Td>
                {['cpu', 'memory'].map((resource) => {
                  const r = resources[resource];
                  return (
                    <React.Fragment key={resource}>
                      <Table.Td><SharesCell node={node} before={priorNode} resource={resource} /></Table.Td>
                      <Table.Td>
                        <EntitlementBar
                          label={`${r.label} entitlement of ${displayPath}`}
                          entitlement={node[r.entitlement]}
                          scale={parent[resource]}
                          reserved={node[r.reserved]}
                          limit={node.limit && node.limit[r.limit]}
                          size={size && size[resource]}
                          before={beforeIndex ? (priorNode ? priorNode[r.entitlement] : 0) : undefined}
                          bound={node[r.bound]}
                          format={r.format}
                        />
                      </Table.Td>
                    </React.Fragment>
                  );
                })}
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
