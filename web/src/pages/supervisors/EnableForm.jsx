// The enable form: every id it offers comes from the inventory's own compatibility answers
// (clusters, switches, port groups, edge clusters, storage policies, libraries), and the address
// fields start from values that fit the default inventory. Submitting calls the 7.0 enable, whose
// validation decides; its error is shown as it is.
import React, { useEffect } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import {
  Alert, Anchor, Button, Card, Group, List, NumberInput, PasswordInput, SegmentedControl, Select, SimpleGrid,
  Stack, TagsInput, Text, TextInput, Textarea, Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { api, useApi, useApiMutation } from '../../api.js';
import { ErrorAlert, PageHeader, mib } from '../../components.jsx';
import { NS, messageText, useClusterNames, useLibraries, useMay, useNetworkNames, usePolicyNames } from './common.jsx';

const VSPHERE = 'VSPHERE_NETWORK';
const NSX = 'NSXT_CONTAINER_PLUGIN';

// A self-signed CA chain is what an HAProxy appliance presents; wcpd checks the PEM shape only.
const exampleCA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

const initialValues = {
  cluster: null,
  provider: VSPHERE,
  size: 'TINY',
  serviceCidr: '10.96.0.0/23',
  mgmtNetwork: null,
  mgmtStart: '10.20.1.10',
  mgmtCount: 5,
  mgmtMask: '255.255.255.0',
  mgmtGateway: '10.20.1.1',
  dns: ['10.0.0.53'],
  ntp: ['pool.ntp.org'],
  masterPolicy: null,
  ephemeralPolicy: null,
  imagePolicy: null,
  library: null,
  // vSphere networking with HAProxy
  workloadNetwork: null,
  workloadStart: '10.30.1.10',
  workloadCount: 100,
  workloadMask: '255.255.255.0',
  workloadGateway: '10.30.1.1',
  haproxyServer: '10.40.1.2:5556',
  haproxyUser: 'admin',
  haproxyPassword: '',
  haproxyCA: exampleCA,
  vipStart: '10.40.1.10',
  vipCount: 50,
  // NSX
  nsxSwitch: null,
  edgeCluster: null,
  podCidr: '10.244.0.0/20',
  ingressCidr: '10.50.0.0/26',
  egressCidr: '10.50.0.64/26',
};

function parseCidr(text) {
  const [address, prefix] = String(text || '').trim().split('/');
  return { address, prefix: Number(prefix) };
}

// enableSpec turns the form into a Clusters.EnableSpec.
function enableSpec(v) {
  const spec = {
    size_hint: v.size,
    network_provider: v.provider,
    service_cidr: parseCidr(v.serviceCidr),
    master_management_network: {
      network: v.mgmtNetwork,
      mode: 'STATICRANGE',
      address_range: { starting_address: v.mgmtStart, address_count: v.mgmtCount, subnet_mask: v.mgmtMask, gateway: v.mgmtGateway },
    },
    master_DNS: v.dns,
    worker_DNS: v.dns,
    master_NTP_servers: v.ntp,
    master_storage_policy: v.masterPolicy,
    ephemeral_storage_policy: v.ephemeralPolicy,
    image_storage: { storage_policy: v.imagePolicy },
  };
  if (v.library) spec.default_kubernetes_service_content_library = v.library;
  if (v.provider === VSPHERE) {
    const [host, port] = v.haproxyServer.trim().split(':');
    spec.workload_networks_spec = {
      supervisor_primary_workload_network: {
        network: 'primary',
        network_provider: VSPHERE,
        vsphere_network: {
          portgroup: v.workloadNetwork,
          address_ranges: [{ address: v.workloadStart, count: v.workloadCount }],
          gateway: v.workloadGateway,
          subnet_mask: v.workloadMask,
        },
      },
    };
    spec.load_balancer_config_spec = {
      id: 'haproxy-1',
      provider: 'HA_PROXY',
      address_ranges: [{ address: v.vipStart, count: v.vipCount }],
      ha_proxy_config_create_spec: {
        servers: [{ host, port: Number(port) }],
        username: v.haproxyUser,
        password: v.haproxyPassword,
        certificate_authority_chain: v.haproxyCA,
      },
    };
  } else {
    spec.ncp_cluster_network_spec = {
      cluster_distributed_switch: v.nsxSwitch,
      nsx_edge_cluster: v.edgeCluster,
      pod_cidrs: [parseCidr(v.podCidr)],
      ingress_cidrs: [parseCidr(v.ingressCidr)],
      egress_cidrs: [parseCidr(v.egressCidr)],
    };
  }
  return spec;
}

function FormSection({ title, children }) {
  return (
    <Card withBorder component="fieldset" padding="md" style={{ margin: 0 }}>
      <Title order={3} size="h5" mb="sm" component="legend" style={{ float: 'left', width: '100%' }}>{title}</Title>
      <Stack gap="sm" style={{ clear: 'both' }}>{children}</Stack>
    </Card>
  );
}

export function EnableSupervisorPage() {
  const may = useMay();
  const navigate = useNavigate();
  const form = useForm({ initialValues });
  const v = form.values;
  const clusterNames = useClusterNames();
  const networkNames = useNetworkNames();
  const { policies } = usePolicyNames();
  const libraries = useLibraries();
  const sizes = useApi(`${NS}/cluster-size-info`);

  const compatibility = useApi(`${NS}/cluster-compatibility?network_provider=${v.provider}`);
  // Port groups for the management and workload networks: those of the vSphere-networking switches
  // compatible with the cluster (NSX switches are named by UUID and list none).
  const vsphereSwitches = useApi(v.cluster && `${NS}/distributed-switch-compatibility?cluster=${v.cluster}&network_provider=${VSPHERE}`);
  const nsxSwitches = useApi(v.cluster && v.provider === NSX && `${NS}/distributed-switch-compatibility?cluster=${v.cluster}&network_provider=${NSX}`);
  const edges = useApi(v.cluster && v.nsxSwitch && `${NS}/edge-cluster-compatibility?cluster=${v.cluster}&distributed_switch=${v.nsxSwitch}`);

  const enable = useApiMutation(
    (values) => api('POST', `${NS}/clusters/${values.cluster}?action=enable`, enableSpec(values)),
    { onSuccess: () => navigate('/supervisors') },
  );

  const clusters = compatibility.data || [];
  const compatible = clusters.filter((c) => c.compatible);
  const incompatible = clusters.filter((c) => !c.compatible);
  const portGroups = [];
  for (const s of vsphereSwitches.data || []) {
    if (!s.compatible) continue;
    for (const n of s.compatible_networks || []) portGroups.push({ value: n, label: `${networkNames[n] || n} (${n})` });
  }
  const nsxSwitchOptions = (nsxSwitches.data || []).filter((s) => s.compatible).map((s) => ({ value: s.distributed_switch, label: s.distributed_switch }));
  const edgeOptions = (edges.data || []).filter((e) => e.compatible).map((e) => ({ value: e.edge_cluster, label: `${e.display_name || e.edge_cluster}` }));
  const policyOptions = policies.map((p) => ({ value: p.policy, label: p.name }));
  const sizeOptions = Object.entries(sizes.data || {}).map(([k, s]) => ({
    value: k, label: `${k} — ${s.master_vm_info.count} vCPUs, ${mib(s.master_vm_info.memory)} per VM, up to ${s.num_supported_pods} pods`,
  }));

  // A choice that the inventory no longer offers (another cluster, another provider) is dropped
  // rather than submitted.
  useEffect(() => {
    if (v.cluster && compatibility.data && !compatible.some((c) => c.cluster === v.cluster)) form.setFieldValue('cluster', null);
  }, [compatibility.data, v.cluster]); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => {
    if (v.nsxSwitch && nsxSwitches.data && !nsxSwitchOptions.some((o) => o.value === v.nsxSwitch)) form.setFieldValue('nsxSwitch', null);
    if (!v.nsxSwitch && nsxSwitchOptions.length === 1) form.setFieldValue('nsxSwitch', nsxSwitchOptions[0].value);
  }, [nsxSwitches.data, v.nsxSwitch]); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => {
    if (!v.edgeCluster && edgeOptions.length === 1) form.setFieldValue('edgeCluster', edgeOptions[0].value);
  }, [edges.data, v.edgeCluster]); // eslint-disable-line react-hooks/exhaustive-deps

  if (!may('manage_supervisors', 'Namespaces.Manage')) {
    return (
      <>
        <PageHeader title="Enable a Supervisor" />
        <Alert color="yellow">Enabling a Supervisor needs the Namespaces.Manage privilege, which you do not hold.</Alert>
      </>
    );
  }

  // Most Supervisors keep everything on one policy: the first choice fills the others still empty.
  const choosePolicy = (policy) => {
    form.setFieldValue('masterPolicy', policy);
    if (!v.ephemeralPolicy) form.setFieldValue('ephemeralPolicy', policy);
    if (!v.imagePolicy) form.setFieldValue('imagePolicy', policy);
  };
  const required = (value) => !!value;
  const missing = !required(v.cluster) || !required(v.mgmtNetwork) || !required(v.masterPolicy) || !required(v.ephemeralPolicy)
    || !required(v.imagePolicy)
    || (v.provider === VSPHERE ? !required(v.workloadNetwork) || !required(v.haproxyPassword) : !required(v.nsxSwitch) || !required(v.edgeCluster));

  return (
    <>
      <PageHeader title="Enable a Supervisor">
        <Anchor component={Link} to="/supervisors">All Supervisors</Anchor>
      </PageHeader>
      <form onSubmit={form.onSubmit((values) => enable.mutate(values))} aria-label="Enable a Supervisor">
        <Stack maw={1200}>
          <FormSection title="Cluster and networking">
            <SegmentedControl
              aria-label="Networking"
              data={[{ value: VSPHERE, label: 'vSphere networking with HAProxy' }, { value: NSX, label: 'NSX' }]}
              {...form.getInputProps('provider')}
            />
            <SimpleGrid cols={{ base: 1, md: 2 }}>
              <Select
                label="Cluster"
                description="Clusters compatible with this networking"
                placeholder={compatible.length ? 'Choose a cluster' : 'No compatible cluster'}
                data={compatible.map((c) => ({ value: c.cluster, label: `${clusterNames[c.cluster] || c.cluster} (${c.cluster})` }))}
                required
                {...form.getInputProps('cluster')}
              />
              <Select label="Control plane size" data={sizeOptions} required allowDeselect={false} {...form.getInputProps('size')} />
            </SimpleGrid>
            {incompatible.length > 0 && (
              <Alert color="gray" role="note" title="Clusters that cannot run a Supervisor">
                <List size="sm" spacing={4}>
                  {incompatible.map((c) => (
                    <List.Item key={c.cluster}>
                      <Text span fw={500} size="sm">{clusterNames[c.cluster] || c.cluster}:</Text>{' '}
                      {(c.incompatibility_reasons || []).map(messageText).join(' ')}
                    </List.Item>
                  ))}
                </List>
              </Alert>
            )}
            {v.provider === NSX && (
              <SimpleGrid cols={{ base: 1, md: 2 }}>
                <Select label="Distributed switch" description="NSX-enabled switches of the cluster" data={nsxSwitchOptions}
                  disabled={!v.cluster} required {...form.getInputProps('nsxSwitch')} />
                <Select label="Edge cluster" description="NSX edge clusters with a tier-0 gateway on that switch" data={edgeOptions}
                  disabled={!v.nsxSwitch} required {...form.getInputProps('edgeCluster')} />
              </SimpleGrid>
            )}
          </FormSection>

          <FormSection title="Management network">
            <SimpleGrid cols={{ base: 1, md: 3 }}>
              <Select label="Management port group" data={portGroups} disabled={!v.cluster} required
                placeholder={v.cluster ? 'Choose a port group' : 'Choose a cluster first'} {...form.getInputProps('mgmtNetwork')} />
              <TextInput label="Starting address" required {...form.getInputProps('mgmtStart')} />
              <NumberInput label="Number of addresses" description="A floating IP, three VMs and one spare" min={5} required {...form.getInputProps('mgmtCount')} />
              <TextInput label="Subnet mask" required {...form.getInputProps('mgmtMask')} />
              <TextInput label="Gateway" required {...form.getInputProps('mgmtGateway')} />
              <TextInput label="Service CIDR" description="Kubernetes services" required {...form.getInputProps('serviceCidr')} />
              <TagsInput label="DNS servers" {...form.getInputProps('dns')} />
              <TagsInput label="NTP servers" {...form.getInputProps('ntp')} />
            </SimpleGrid>
          </FormSection>

          {v.provider === VSPHERE ? (
            <>
              <FormSection title="Workload network">
                <SimpleGrid cols={{ base: 1, md: 3 }}>
                  <Select label="Workload port group" data={portGroups} disabled={!v.cluster} required
                    placeholder={v.cluster ? 'Choose a port group' : 'Choose a cluster first'} {...form.getInputProps('workloadNetwork')} />
                  <TextInput label="Workload starting address" required {...form.getInputProps('workloadStart')} />
                  <NumberInput label="Workload addresses" min={1} required {...form.getInputProps('workloadCount')} />
                  <TextInput label="Workload subnet mask" required {...form.getInputProps('workloadMask')} />
                  <TextInput label="Workload gateway" required {...form.getInputProps('workloadGateway')} />
                </SimpleGrid>
              </FormSection>
              <FormSection title="HAProxy load balancer">
                <SimpleGrid cols={{ base: 1, md: 3 }}>
                  <TextInput label="Data plane API (host:port)" required {...form.getInputProps('haproxyServer')} />
                  <TextInput label="HAProxy user name" required {...form.getInputProps('haproxyUser')} />
                  <PasswordInput label="HAProxy password" required {...form.getInputProps('haproxyPassword')} />
                  <TextInput label="Virtual IP starting address" required {...form.getInputProps('vipStart')} />
                  <NumberInput label="Virtual IPs" min={1} required {...form.getInputProps('vipCount')} />
                </SimpleGrid>
                <Textarea label="HAProxy CA certificate (PEM)" autosize minRows={3} required {...form.getInputProps('haproxyCA')} />
              </FormSection>
            </>
          ) : (
            <FormSection title="NSX workload networking">
              <SimpleGrid cols={{ base: 1, md: 3 }}>
                <TextInput label="Pod CIDR" required {...form.getInputProps('podCidr')} />
                <TextInput label="Ingress CIDR" required {...form.getInputProps('ingressCidr')} />
                <TextInput label="Egress CIDR" required {...form.getInputProps('egressCidr')} />
              </SimpleGrid>
            </FormSection>
          )}

          <FormSection title="Storage and images">
            <SimpleGrid cols={{ base: 1, md: 2 }}>
              <Select label="Control plane storage policy" data={policyOptions} required {...form.getInputProps('masterPolicy')}
                onChange={choosePolicy} />
              <Select label="Ephemeral disks storage policy" data={policyOptions} required {...form.getInputProps('ephemeralPolicy')} />
              <Select label="Image cache storage policy" data={policyOptions} required {...form.getInputProps('imagePolicy')} />
              <Select label="Content library for Kubernetes releases" data={libraries.map((l) => ({ value: l.id, label: l.name }))}
                clearable placeholder="None" {...form.getInputProps('library')} />
            </SimpleGrid>
          </FormSection>

          <ErrorAlert error={enable.error} title="Enable refused" />
          <Group>
            <Button type="submit" loading={enable.isPending} disabled={missing}>Enable</Button>
            <Button variant="default" component={Link} to="/supervisors">Cancel</Button>
            {missing && <Text size="sm" c="dimmed">Choose a cluster, port groups, storage policies{v.provider === VSPHERE ? ' and the HAProxy password' : ', a switch and an edge cluster'} to enable.</Text>}
          </Group>
        </Stack>
      </form>
    </>
  );
}
