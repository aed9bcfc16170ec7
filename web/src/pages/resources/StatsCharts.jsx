// CPU and memory over time for the cluster or one namespace, from vCenter's
// namespace_management.stats.time_series (sampled once a minute, rolled up with age; see
// docs/resource-model.md "Statistics").
import React, { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { LineChart } from '@mantine/charts';
import { Card, Group, SegmentedControl, Select, SimpleGrid, Text, Title } from '@mantine/core';
import { api } from '../../api.js';
import { QueryState } from '../../components.jsx';
import { formatMB, formatMBShort, formatMHz, formatMHzShort } from './model.js';

const ranges = [
  { value: '3600', label: 'Hour' },
  { value: '86400', label: 'Day' },
  { value: '604800', label: 'Week' },
];

const series = {
  cpu: [
    { name: 'cpu_used_mhz', label: 'Used', color: 'blue.6' },
    { name: 'cpu_entitlement_mhz', label: 'Entitlement', color: 'teal.6' },
    { name: 'cpu_reserved_mhz', label: 'Reserved', color: 'orange.6' },
    { name: 'cpu_capacity_mhz', label: 'Capacity', color: 'gray.6' },
  ],
  memory: [
    { name: 'memory_used_mb', label: 'Used', color: 'blue.6' },
    { name: 'memory_entitlement_mb', label: 'Entitlement', color: 'teal.6' },
    { name: 'memory_reserved_mb', label: 'Reserved', color: 'orange.6' },
    { name: 'memory_capacity_mb', label: 'Capacity', color: 'gray.6' },
  ],
};

// rowsOf turns the API's one-series-per-counter answer into one row per time stamp.
function rowsOf(answer, long) {
  const rows = new Map();
  for (const { counter, time_stamps: stamps, values } of answer || []) {
    stamps.forEach((t, i) => {
      if (!rows.has(t)) {
        const d = new Date(t * 1000);
        const time = long
          ? d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })
          : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
        rows.set(t, { t, time });
      }
      rows.get(t)[counter] = values[i];
    });
  }
  return [...rows.values()].sort((a, b) => a.t - b.t);
}

function Chart({ title, rows, kind, counters, format, axisFormat }) {
  const shown = series[kind].filter((s) => counters.has(s.name));
  const latest = rows[rows.length - 1];
  const summary = latest
    ? shown.map((s) => `${s.label} ${format(latest[s.name])}`).join(', ')
    : 'no samples yet';
  return (
    <Card withBorder padding="sm">
      <Text fw={600} size="sm">{title}</Text>
      <Text size="xs" c="dimmed" mb="xs" data-testid={`${kind}-latest`}>Latest: {summary}</Text>
      <LineChart
        h={220}
        data={rows}
        dataKey="time"
        series={shown}
        curveType="linear"
        withLegend
        withDots={rows.length < 30}
        valueFormatter={format}
        yAxisProps={{ width: 70, tickFormatter: axisFormat }}
        aria-label={`${title}: ${summary}`}
      />
    </Card>
  );
}

export function StatsCharts({ cluster, namespaces }) {
  const [object, setObject] = useState('cluster');
  const [range, setRange] = useState('3600');
  const long = Number(range) > 86400;
  const query = useQuery({
    queryKey: ['stats', cluster, object, range],
    queryFn: () => {
      const end = Math.floor(Date.now() / 1000);
      const params = new URLSearchParams({ start: String(end - Number(range)), end: String(end) });
      if (object === 'cluster') {
        params.set('obj_type', 'CLUSTER');
        params.set('cluster', cluster);
      } else {
        params.set('obj_type', 'NAMESPACE');
        params.set('namespace', object);
      }
      return api('GET', `/api/vcenter/namespace-management/stats/time-series?${params}`);
    },
    refetchInterval: 15000,
  });
  const rows = rowsOf(query.data, long);
  const counters = new Set((query.data || []).map((c) => c.counter));
  const objects = [{ value: 'cluster', label: `Cluster ${cluster}` }, ...namespaces.map((n) => ({ value: n, label: `Namespace ${n}` }))];
  return (
    <Card withBorder padding="md">
      <Group justify="space-between" mb="sm">
        <Title order={3} size="h4">Usage over time</Title>
        <Group>
          <Select aria-label="Statistics of" data={objects} value={object} onChange={(v) => setObject(v || 'cluster')} allowDeselect={false} w={260} />
          <SegmentedControl aria-label="Time range" data={ranges} value={range} onChange={setRange} />
        </Group>
      </Group>
      <QueryState query={query}>
        <SimpleGrid cols={{ base: 1, lg: 2 }}>
          <Chart title="CPU" rows={rows} kind="cpu" counters={counters} format={formatMHz} axisFormat={formatMHzShort} />
          <Chart title="Memory" rows={rows} kind="memory" counters={counters} format={formatMB} axisFormat={formatMBShort} />
        </SimpleGrid>
        <Text size="xs" c="dimmed" mt="xs">
          One sample a minute; older points are averages (5 minutes for a day, 30 minutes for a week).
        </Text>
      </QueryState>
    </Card>
  );
}
