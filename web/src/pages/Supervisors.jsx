// Supervisors: the list with status and conditions, a page per Supervisor, and the enable form
// (supervisors/EnableForm.jsx). A Supervisor is addressed by its cluster's MoRef, as the 7.0 API
// does; the 8.0 summaries add its own id and name.
import React, { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import {
  Accordion, Anchor, Badge, Button, Card, Checkbox, Code, Grid, Group, Modal, Progress, Select, SimpleGrid, Stack, Table, Text, Title,
} from '@mantine/core';
import { useQueries } from '@tanstack/react-query';
import { api, useApi, useApiMutation } from '../api.js';
import { ErrorAlert, Fields, PageHeader, QueryState, mhz, mib } from '../components.jsx';
import {
  ConditionsSummary, ConditionsTable, InstallsTable, Messages, NS, StatusBadge, formatTime, messageText, percent,
  useClusterNames, useLibraries, useMay, useNetworkNames, usePolicyNames, useSupervisorIdentities,
} from './supervisors/common.jsx';
export { EnableSupervisorPage } from './supervisors/EnableForm.jsx';

export function SupervisorsPage() {
  const may = useMay();
  const clusters = useApi(`${NS}/clusters`);
  const software = useApi(`${NS}/software/clusters`);
  const identities = useSupervisorIdentities();
  const rows = clusters.data || [];
  // The list answers statuses only; each Supervisor's get adds its conditions and messages.
  const details = useQueries({
    queries: rows.map((c) => ({ queryKey: [`${NS}/clusters/${c.cluster}`], queryFn: () => api('GET', `${NS}/clusters/${c.cluster}`) })),
  });
  const versions = {};
  for (const s of software.data || []) versions[s.cluster] = s;

  return (
    <>
      <PageHeader title="Supervisors">
        {may('manage_supervisors', 'Namespaces.Manage') && (
          <Button component={Link} to="/supervisors/enable">Enable a Supervisor</Button>
        )}
      </PageHeader>
      <QueryState query={clusters}>
        {rows.length === 0 ? (
          <Text c="dimmed">No cluster runs a Supervisor yet.</Text>
        ) : (
          <Table.ScrollContainer minWidth={900}>
            <Table striped highlightOnHover verticalSpacing="sm" aria-label="Supervisors">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Supervisor</Table.Th>
                  <Table.Th>Cluster</Table.Th>
                  <Table.Th>Config status</Table.Th>
                  <Table.Th>Kubernetes status</Table.Th>
                  <Table.Th>Version</Table.Th>
                  <Table.Th>Conditions</Table.Th>
                  <Table.Th>Messages</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((c, i) => {
                  const info = details[i].data;
                  const identity = identities[c.cluster];
                  const version = versions[c.cluster];
                  return (
                    <Table.Tr key={c.cluster}>
                      <Table.Td>
                        <Anchor component={Link} to={`/supervisors/${c.cluster}`} fw={500}>
                          {(identity && identity.name) || c.cluster_name}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{c.cluster_name}</Text>
                        <Text size="xs" c="dimmed">{c.cluster}</Text>
                      </Table.Td>
                      <Table.Td><StatusBadge value={c.config_status} label="Config status" /></Table.Td>
                      <Table.Td><StatusBadge value={c.kubernetes_status} label="Kubernetes status" /></Table.Td>
                      <Table.Td><Text size="sm">{version ? shortVersion(version.current_version) : ''}</Text></Table.Td>
                      <Table.Td><ConditionsSummary conditions={info && info.conditions} /></Table.Td>
                      <Table.Td maw={360}><Messages messages={info && info.messages} empty="None" /></Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
    </>
  );
}

// shortVersion turns v1.27.11+vmware.1-fips.1-vsc0.1.9-23301267 into "v1.27.11"; the full version
// stays in tooltips and the upgrade list.
function shortVersion(v) {
  if (!v) return '';
  return v.split('+')[0];
}

export function SupervisorPage() {
  const { id: cluster } = useParams();
  const info = useApi(`${NS}/clusters/${cluster}`);
  const clusterNames = useClusterNames();
  const identity = useSupervisorIdentities()[cluster];
  const title = identity && identity.name ? `Supervisor ${identity.name}` : `Supervisor on ${clusterNames[cluster] || cluster}`;
  const may = useMay();
  return (
    <>
      <PageHeader title={title}>
        <Anchor component={Link} to="/supervisors">All Supervisors</Anchor>
        {may('manage_supervisors', 'Namespaces.Manage') && info.data && info.data.config_status !== 'REMOVING' && (
          <DisableButton cluster={cluster} title={title} />
        )}
      </PageHeader>
      <QueryState query={info}>
        {info.data && <SupervisorDetails cluster={cluster} info={info.data} identity={identity} clusterName={clusterNames[cluster]} />}
      </QueryState>
    </>
  );
}

// DisableButton asks before disabling: the Supervisor's namespaces and control plane go with it.
function DisableButton({ cluster, title }) {
  const navigate = useNavigate();
  const [asking, setAsking] = useState(false);
  const disable = useApiMutation(() => api('POST', `${NS}/clusters/${cluster}?action=disable`), {
    onSuccess: () => navigate('/supervisors'),
  });
  return (
    <>
      <Button variant="light" color="red" onClick={() => setAsking(true)}>Disable</Button>
      <Modal opened={asking} onClose={() => setAsking(false)} title={`Disable ${title}?`}>
        <Stack>
          <Text size="sm">Every namespace of this Supervisor, and what runs in them, is removed with its control plane.</Text>
          <ErrorAlert error={disable.error} title="Disable refused" />
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setAsking(false)}>Cancel</Button>
            <Button color="red" onClick={() => disable.mutate()} loading={disable.isPending}>Disable</Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}

function Section({ title, children, ...props }) {
  return (
    <Card withBorder padding="md" component="section" aria-label={title} {...props}>
      <Title order={3} size="h4" mb="sm">{title}</Title>
      {children}
    </Card>
  );
}

function SupervisorDetails({ cluster, info, identity, clusterName }) {
  const { names: policyNames } = usePolicyNames();
  const networkNames = useNetworkNames();
  const libraries = useLibraries();
  const sizes = useApi(`${NS}/cluster-size-info`);
  const size = sizes.data && sizes.data[info.size_hint];
  const library = libraries.find((l) => l.id === info.default_kubernetes_service_content_library);
  const policy = (id) => (id ? `${policyNames[id] || id}` : '');
  const stats = info.stat_summary || {};
  return (
    <Stack>
      <Group>
        <StatusBadge value={info.config_status} label="Config status" />
        <StatusBadge value={info.kubernetes_status} label="Kubernetes status" />
      </Group>
      <Messages messages={info.messages} />
      <Messages messages={info.kubernetes_status_messages} />
      <Grid>
        <Grid.Col span={{ base: 12, lg: 6 }}>
          <Section title="Overview" h="100%">
            <Fields
              rows={[
                ['Supervisor id', identity && identity.id],
                ['Cluster', `${clusterName || ''} (${cluster})`],
                ['Zone', identity && identity.zone],
                ['Control plane size', size
                  ? `${info.size_hint}: 3 VMs of ${size.master_vm_info.count} vCPUs, ${mib(size.master_vm_info.memory)} memory, ${mib(size.master_vm_info.capacity)} disk`
                  : info.size_hint],
                ['Network provider', info.network_provider === 'NSXT_CONTAINER_PLUGIN' ? 'NSX' : 'vSphere networking'],
                ['API server endpoint', info.api_server_management_endpoint],
                ['Cluster endpoint', info.api_server_cluster_endpoint],
                ['API servers', (info.api_servers || []).join(', ')],
                ['Service CIDR', cidr(info.service_cidr)],
                ['DNS servers', (info.master_DNS || []).join(', ')],
                ['NTP servers', (info.master_NTP_servers || []).join(', ')],
                ['Control plane storage', policy(info.master_storage_policy)],
                ['Ephemeral storage', policy(info.ephemeral_storage_policy)],
                ['Image storage', policy(info.image_storage && info.image_storage.storage_policy)],
                ['Content library', library ? library.name : info.default_kubernetes_service_content_library],
              ]}
            />
            {info.tls_management_endpoint_certificate && (
              <Accordion variant="contained" mt="sm">
                <Accordion.Item value="certificate">
                  <Accordion.Control>API server endpoint certificate</Accordion.Control>
                  <Accordion.Panel><Code block>{info.tls_management_endpoint_certificate}</Code></Accordion.Panel>
                </Accordion.Item>
              </Accordion>
            )}
          </Section>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 6 }}>
          <Stack h="100%">
            <Section title="Capacity">
              <Stack gap="xs">
                <Usage label="CPU" used={stats.cpu_used} capacity={stats.cpu_capacity} format={mhz} />
                <Usage label="Memory" used={stats.memory_used} capacity={stats.memory_capacity} format={mib} />
                <Usage label="Storage" used={stats.storage_used} capacity={stats.storage_capacity} format={mib} />
              </Stack>
            </Section>
            <UpgradeSection cluster={cluster} />
          </Stack>
        </Grid.Col>
      </Grid>
      <Section title="Conditions">
        <ConditionsTable conditions={info.conditions} />
      </Section>
      <NetworksSection cluster={cluster} info={info} networkNames={networkNames} />
      <InstalledServices cluster={cluster} />
    </Stack>
  );
}

function cidr(c) {
  return c ? `${c.address}/${c.prefix}` : '';
}

function ranges(list) {
  return (list || []).map((r) => `${r.address} (+${r.count})`).join(', ');
}

function Usage({ label, used, capacity, format }) {
  const value = percent(used, capacity);
  return (
    <div>
      <Group justify="space-between">
        <Text size="sm">{label}</Text>
        <Text size="sm" c="dimmed">{format(used || 0)} of {format(capacity || 0)} used</Text>
      </Group>
      <Progress value={value} aria-label={`${label} used: ${value.toFixed(0)}%`} />
    </div>
  );
}

function NetworksSection({ cluster, info, networkNames }) {
  const networks = useApi(`${NS}/clusters/${cluster}/networks`);
  const mgmt = info.master_management_network || {};
  const range = mgmt.address_range;
  const ncp = info.ncp_cluster_network_info || info.ncp_cluster_network_spec;
  const balancers = info.load_balancers || [];
  return (
    <Section title="Networks">
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <div>
          <Text fw={500} mb={4}>Management network</Text>
          <Fields
            rows={[
              ['Port group', mgmt.network && `${networkNames[mgmt.network] || ''} (${mgmt.network})`],
              ['Mode', mgmt.mode],
              ['Address range', range && `${range.starting_address} (+${range.address_count})`],
              ['Subnet mask', range && range.subnet_mask],
              ['Gateway', range && range.gateway],
              ['Floating IP', mgmt.floating_IP],
            ]}
          />
          {ncp && (
            <>
              <Text fw={500} mt="sm" mb={4}>NSX</Text>
              <Fields
                rows={[
                  ['Distributed switch', ncp.cluster_distributed_switch],
                  ['Edge cluster', ncp.nsx_edge_cluster],
                  ['Pod CIDRs', (ncp.pod_cidrs || []).map(cidr).join(', ')],
                  ['Ingress CIDRs', (ncp.ingress_cidrs || []).map(cidr).join(', ')],
                  ['Egress CIDRs', (ncp.egress_cidrs || []).map(cidr).join(', ')],
                ]}
              />
            </>
          )}
          {balancers.map((lb) => (
            <div key={lb.id}>
              <Text fw={500} mt="sm" mb={4}>Load balancer {lb.id}</Text>
              <Fields
                rows={[
                  ['Provider', lb.provider],
                  ['Virtual IP ranges', ranges(lb.address_ranges)],
                  ['Servers', ((lb.ha_proxy_info || lb.avi_info || {}).servers || []).map((s) => `${s.host}:${s.port}`).join(', ')
                    || (lb.avi_info && lb.avi_info.server && `${lb.avi_info.server.host}:${lb.avi_info.server.port}`)],
                ]}
              />
            </div>
          ))}
        </div>
        <div>
          <Text fw={500} mb={4}>Workload networks</Text>
          <QueryState query={networks}>
            {(networks.data || []).length === 0 ? (
              <Text c="dimmed" size="sm">None.</Text>
            ) : (
              <Table aria-label="Workload networks">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Network</Table.Th>
                    <Table.Th>Port group</Table.Th>
                    <Table.Th>Addresses</Table.Th>
                    <Table.Th>Gateway</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {(networks.data || []).map((n) => {
                    const v = n.vsphere_network || {};
                    const primary = info.workload_networks && info.workload_networks.supervisor_primary_workload_network
                      && info.workload_networks.supervisor_primary_workload_network.network === n.network;
                    return (
                      <Table.Tr key={n.network}>
                        <Table.Td>
                          <Group gap={6}>
                            <Text size="sm">{n.network}</Text>
                            {primary && <Badge size="xs" variant="outline">primary</Badge>}
                          </Group>
                        </Table.Td>
                        <Table.Td><Text size="sm">{v.portgroup ? (networkNames[v.portgroup] || v.portgroup) : n.network_provider}</Text></Table.Td>
                        <Table.Td><Text size="sm">{ranges(v.address_ranges)}</Text></Table.Td>
                        <Table.Td><Text size="sm">{v.gateway} {v.subnet_mask && `/ ${v.subnet_mask}`}</Text></Table.Td>
                      </Table.Tr>
                    );
                  })}
                </Table.Tbody>
              </Table>
            )}
          </QueryState>
        </div>
      </SimpleGrid>
    </Section>
  );
}

// UpgradeSection shows the Kubernetes version and upgrades. The API runs the prechecks as part of
// the upgrade: ERROR never proceeds, WARNING only when told to ignore warnings, and the verdict
// shows in the software info's messages.
function UpgradeSection({ cluster }) {
  const may = useMay();
  const software = useApi(`${NS}/software/clusters/${cluster}`);
  const catalogue = useApi(`${NS}/software/cluster-available-versions`);
  const [target, setTarget] = useState(null);
  const [ignoreWarnings, setIgnoreWarnings] = useState(false);
  const upgrade = useApiMutation(() =>
    api('POST', `${NS}/software/clusters/${cluster}?action=upgrade`, { desired_version: target, ignore_precheck_warnings: ignoreWarnings }));
  const s = software.data;
  const releases = {};
  for (const v of catalogue.data || []) releases[v.version] = v;
  const status = s && s.upgrade_status;
  const progress = status && status.progress;
  return (
    <Section title="Kubernetes version">
      <QueryState query={software}>
        {s && (
          <Stack gap="sm">
            <Fields
              rows={[
                ['Current version', s.current_version],
                ['State', <StatusBadge key="state" value={s.state} label="Upgrade state" />],
                ['Last upgraded', formatTime(s.last_upgraded_date)],
                ['Upgrading to', status && status.desired_version],
              ]}
            />
            {progress && progress.total > 0 && s.state === 'PENDING' && (
              <div>
                <Progress value={percent(progress.completed, progress.total)}
                  aria-label={`Upgrade progress: ${progress.completed} of ${progress.total} nodes`} />
                <Text size="xs" c="dimmed" mt={4}>{messageText(progress.message)}</Text>
              </div>
            )}
            <Messages messages={(status && status.messages) || s.messages} />
            <Text size="sm" fw={500}>Available upgrades</Text>
            {(s.available_versions || []).length === 0 ? (
              <Text size="sm" c="dimmed">This Supervisor runs the newest version.</Text>
            ) : (
              <UpgradeList versions={s.available_versions} releases={releases} />
            )}
            {may('upgrade_supervisors', 'Namespaces.Upgrade') && (s.available_versions || []).length > 0 && (
              <Stack gap="xs">
                <Group align="flex-end">
                  <Select
                    label="Upgrade to"
                    placeholder="Choose a version"
                    data={(s.available_versions || []).map((v) => ({ value: v, label: shortVersion(v) }))}
                    value={target}
                    onChange={setTarget}
                    w={220}
                  />
                  <Button onClick={() => upgrade.mutate()} disabled={!target} loading={upgrade.isPending}>
                    Run prechecks and upgrade
                  </Button>
                </Group>
                <Checkbox label="Proceed despite precheck warnings" checked={ignoreWarnings}
                  onChange={(e) => setIgnoreWarnings(e.currentTarget.checked)} />
                <ErrorAlert error={upgrade.error} title="Upgrade refused" />
              </Stack>
            )}
          </Stack>
        )}
      </QueryState>
    </Section>
  );
}

function UpgradeList({ versions, releases }) {
  return (
    <Table aria-label="Available upgrades">
      <Table.Tbody>
        {versions.map((v) => (
          <Table.Tr key={v}>
            <Table.Td><Text size="sm">{shortVersion(v)}</Text><Text size="xs" c="dimmed">{v}</Text></Table.Td>
            <Table.Td>
              <Text size="sm">{releases[v] && releases[v].release_notes}</Text>
              <Text size="xs" c="dimmed">{releases[v] && `released ${formatTime(releases[v].release_date).split(',')[0]}`}</Text>
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

function InstalledServices({ cluster }) {
  const installs = useApi(`${NS}/clusters/${cluster}/supervisor-services`);
  const services = useApi(`${NS}/supervisor-services`);
  const names = {};
  for (const s of services.data || []) names[s.supervisor_service] = s.display_name;
  return (
    <Section title="Supervisor Services">
      <QueryState query={installs}>
        {(installs.data || []).length === 0 ? (
          <Text c="dimmed" size="sm">No Supervisor Service is installed.</Text>
        ) : (
          <InstallsTable label="Installed Supervisor Services" first="Service" installs={installs.data} rowKey={(s) => s.supervisor_service}
            name={(s) => (
              <>
                <Text size="sm">{names[s.supervisor_service] || s.supervisor_service}</Text>
                <Text size="xs" c="dimmed">{s.supervisor_service}</Text>
              </>
            )}
            statusLabel={(s) => `${s.supervisor_service} status`} />
        )}
      </QueryState>
      <Anchor component={Link} to="/services" size="sm" mt="xs" display="inline-block">Supervisor Services catalogue</Anchor>
    </Section>
  );
}
