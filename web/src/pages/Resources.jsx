// Resources: seed 003's argument as a page. The live analysis of a Supervisor's cluster (shares,
// reservations, entitlements under contention) as a tree with bars, a what-if control that redraws
// the same model after changes, and CPU and memory over time. Everything is read from wcpd's API
// and polled, so the page follows the cluster as namespaces and pods come and go.
import React, { useState } from 'react';
import { Navigate, useNavigate, useParams } from 'react-router-dom';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert, Badge, Grid, Group, List, Select, Spoiler, Stack, Text, Title,
} from '@mantine/core';
import { api, useApi } from '../api.js';
import { ErrorAlert, PageHeader, QueryState } from '../components.jsx';
import { useSession } from '../session.jsx';
import { AnalysisTable } from './resources/AnalysisTable.jsx';
import { BarLegend } from './resources/EntitlementBar.jsx';
import { ChangesTable } from './resources/ChangesTable.jsx';
import { StatsCharts } from './resources/StatsCharts.jsx';
import { WhatIfControl } from './resources/WhatIf.jsx';
import { namespacePools, warnings } from './resources/model.js';

const clustersPath = '/api/vcenter/namespace-management/clusters';

export function ResourcesPage() {
  const { can } = useSession();
  // Every operation of the page needs System.Read (docs/resource-model.md); without it the API
  // would refuse each call, so say why once instead.
  if (!can('System.Read')) {
    return (
      <>
        <PageHeader title="Resources" />
        <Text>The resource analysis needs the System.Read privilege on vCenter, which your account does not hold.</Text>
      </>
    );
  }
  return <ResourcesOfCluster />;
}

function ResourcesOfCluster() {
  const { cluster } = useParams();
  const navigate = useNavigate();
  const clusters = useApi(clustersPath);
  const list = clusters.data || [];
  if (!cluster && list.length > 0) {
    const first = list.find((c) => c.config_status === 'RUNNING') || list[0];
    return <Navigate to={`/resources/${encodeURIComponent(first.cluster)}`} replace />;
  }
  const options = list.map((c) => ({
    value: c.cluster,
    label: `${c.cluster_name || c.cluster} (${c.cluster}) · ${c.config_status}`,
  }));
  if (cluster && !options.some((o) => o.value === cluster)) options.push({ value: cluster, label: cluster });
  return (
    <>
      <PageHeader title="Resources">
        <Select
          label="Supervisor cluster"
          aria-label="Supervisor cluster"
          data={options}
          value={cluster || null}
          onChange={(v) => v && navigate(`/resources/${encodeURIComponent(v)}`)}
          allowDeselect={false}
          w={340}
        />
      </PageHeader>
      <QueryState query={clusters}>
        {list.length === 0 && !cluster ? (
          <Text>No cluster has a Supervisor yet. Enable one on the Supervisors page to see how its resources are shared.</Text>
        ) : (
          cluster && <ClusterResources key={cluster} cluster={cluster} />
        )}
      </QueryState>
    </>
  );
}

function WarningsList({ analysis }) {
  const list = warnings(analysis);
  if (list.length === 0) return null;
  return (
    <Alert color="yellow" title={`Warnings (${list.length})`}>
      {/* Dilution warns about every namespace at once; the tree stays in view below a few. */}
      <Spoiler maxHeight={110} showLabel={`Show all ${list.length} warnings`} hideLabel="Show fewer warnings">
        <List size="sm" spacing={4}>
          {list.map((w) => (
            <List.Item key={`${w.path}:${w.code}:${w.resource}`}>
              <Badge size="xs" variant="light" color="yellow" mr={6}>{w.code}</Badge>
              {w.message}
            </List.Item>
          ))}
        </List>
      </Spoiler>
    </Alert>
  );
}

function ClusterResources({ cluster }) {
  const path = `/api/wcpd/clusters/${encodeURIComponent(cluster)}/resources`;
  const live = useApi(path);
  const [changes, setChanges] = useState([]);
  const client = useQueryClient();
  // The what-if is asked again on every poll, so its "before" and "after" follow the live tree too.
  const whatIf = useQuery({
    queryKey: ['what-if', cluster, changes],
    queryFn: () => api('POST', path, { changes }),
    enabled: changes.length > 0,
    placeholderData: keepPreviousData,
  });

  // apply adds changes once the server has accepted the whole list; its refusal reaches the form.
  const apply = async (added) => {
    const next = [...changes, ...added];
    const answer = await api('POST', path, { changes: next });
    client.setQueryData(['what-if', cluster, next], answer);
    setChanges(next);
  };
  const remove = (i) => setChanges(changes.filter((_, j) => j !== i));
  const reset = () => setChanges([]);

  const answer = changes.length > 0 && whatIf.data && !whatIf.isError ? whatIf.data : null;
  const shown = answer ? answer.after : live.data;
  const namespaces = namespacePools(live.data).map((n) => n.name);

  return (
    <QueryState query={live}>
      {shown && (
        <Stack gap="md">
          <Group gap="xs">
            {answer ? (
              <Badge color="violet" size="lg">What-if: {changes.length} change{changes.length > 1 ? 's' : ''} applied</Badge>
            ) : (
              <Badge color="green" size="lg" variant="light">Live</Badge>
            )}
            <Text size="sm" c="dimmed">
              Entitlements when everything wants everything at once (seed 003&apos;s perfect storm): each node&apos;s
              part of what its parent gets, divided by shares, raised to reservations, capped by limits and sizes.
            </Text>
          </Group>
          {changes.length > 0 && whatIf.isError && <ErrorAlert error={whatIf.error} title="The what-if was refused" />}
          <WarningsList analysis={shown} />
          <Grid gutter="md">
            <Grid.Col span={{ base: 12, xl: 8 }}>
              <BarLegend whatIf={!!answer} />
              <AnalysisTable analysis={shown} before={answer ? answer.before : null} />
            </Grid.Col>
            <Grid.Col span={{ base: 12, xl: 4 }}>
              <WhatIfControl tree={shown} changes={changes} apply={apply} remove={remove} reset={reset} />
            </Grid.Col>
          </Grid>
          {answer && (
            <div>
              <Title order={3} size="h4" mb="xs">What changes</Title>
              <ChangesTable changes={answer.changes} />
            </div>
          )}
          <StatsCharts cluster={cluster} namespaces={namespaces} />
        </Stack>
      )}
    </QueryState>
  );
}
