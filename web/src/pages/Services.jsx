// Supervisor Services: the catalogue registered on vCenter (services, their versions and states),
// each version's details, which Supervisors run each service; and, for users holding the privilege,
// register, add a version, activate/deactivate and install on a Supervisor.
import React, { useState } from 'react';
import { Link } from 'react-router-dom';
import {
  Accordion, Anchor, Badge, Button, Checkbox, Code, Group, Modal, ScrollArea, SegmentedControl, Select, Stack, Table, Text,
  Textarea, Title,
} from '@mantine/core';
import { useQueries } from '@tanstack/react-query';
import { api, useApi, useApiMutation } from '../api.js';
import { ErrorAlert, Fields, PageHeader, QueryState } from '../components.jsx';
import { InstallsTable, NS, StatusBadge, useClusterNames, useMay, useSupervisorIdentities } from './supervisors/common.jsx';

const SERVICES = `${NS}/supervisor-services`;

// useInstalls reads the installs of every Supervisor: { [service]: [{ cluster, ...summary }] }.
function useInstalls() {
  const clusters = useApi(`${NS}/clusters`);
  const list = (clusters.data || []).filter((c) => c.config_status !== 'REMOVING');
  const answers = useQueries({
    queries: list.map((c) => ({
      queryKey: [`${NS}/clusters/${c.cluster}/supervisor-services`],
      queryFn: () => api('GET', `${NS}/clusters/${c.cluster}/supervisor-services`),
    })),
  });
  const byService = {};
  list.forEach((c, i) => {
    for (const s of answers[i].data || []) (byService[s.supervisor_service] ||= []).push({ cluster: c.cluster, ...s });
  });
  return { byService, supervisors: list };
}

export function ServicesPage() {
  const may = useMay();
  const canManage = may('manage_services', 'SupervisorServices.Manage');
  const services = useApi(SERVICES);
  const { byService, supervisors } = useInstalls();
  const [registering, setRegistering] = useState(null); // null, or { service } for a new version
  return (
    <>
      <PageHeader title="Supervisor Services">
        {canManage && <Button onClick={() => setRegistering({})}>Register a service</Button>}
      </PageHeader>
      <QueryState query={services}>
        {(services.data || []).length === 0 ? (
          <Text c="dimmed">No Supervisor Service is registered.</Text>
        ) : (
          <Accordion variant="separated" multiple defaultValue={(services.data || []).map((s) => s.supervisor_service)}>
            {(services.data || []).map((s) => (
              <Accordion.Item key={s.supervisor_service} value={s.supervisor_service}>
                <Accordion.Control>
                  <Group justify="space-between" pr="md">
                    <div>
                      <Text fw={600}>{s.display_name}</Text>
                      <Text size="xs" c="dimmed">{s.supervisor_service}</Text>
                    </div>
                    <Group gap="xs">
                      <Text size="sm" c="dimmed">installed on {(byService[s.supervisor_service] || []).length} Supervisor(s)</Text>
                      <StatusBadge value={s.state} />
                    </Group>
                  </Group>
                </Accordion.Control>
                <Accordion.Panel>
                  <ServiceDetails service={s.supervisor_service} installs={byService[s.supervisor_service] || []}
                    supervisors={supervisors} canManage={canManage} onAddVersion={() => setRegistering({ service: s.supervisor_service })} />
                </Accordion.Panel>
              </Accordion.Item>
            ))}
          </Accordion>
        )}
      </QueryState>
      {registering && <RegisterForm service={registering.service} onClose={() => setRegistering(null)} />}
    </>
  );
}

function ServiceDetails({ service, installs, supervisors, canManage, onAddVersion }) {
  const info = useApi(`${SERVICES}/${service}`);
  const versions = useApi(`${SERVICES}/${service}/versions`);
  const [shownVersion, setShownVersion] = useState(null);
  const setState = useApiMutation((action) => api('PATCH', `${SERVICES}/${service}?action=${action}`));
  const setVersionState = useApiMutation(({ version, action }) => api('PATCH', `${SERVICES}/${service}/versions/${version}?action=${action}`));
  const s = info.data;
  return (
    <Stack>
      <QueryState query={info}>
        {s && (
          <Group justify="space-between" align="flex-start">
            <Stack gap={4}>
              <Text size="sm">{s.description}</Text>
              <Group gap="xs">
                {s.must_be_installed && <Badge variant="outline" tt="none">installed on every Supervisor</Badge>}
                {s.has_default_versions_registered && <Badge variant="outline" color="gray" tt="none">built in</Badge>}
              </Group>
            </Stack>
            {canManage && (
              <Group gap="xs">
                <Button size="xs" variant="default" onClick={onAddVersion}>Add a version</Button>
                {s.state === 'ACTIVATED' ? (
                  <Button size="xs" variant="light" color="orange" onClick={() => setState.mutate('deactivate')} loading={setState.isPending}
                    disabled={s.must_be_installed}>Deactivate service</Button>
                ) : (
                  <Button size="xs" variant="light" onClick={() => setState.mutate('activate')} loading={setState.isPending}>Activate service</Button>
                )}
              </Group>
            )}
          </Group>
        )}
      </QueryState>
      <ErrorAlert error={setState.error || setVersionState.error} />
      <Title order={4} size="h5">Versions</Title>
      <QueryState query={versions}>
        <Table aria-label={`Versions of ${service}`}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Version</Table.Th>
              <Table.Th>Name</Table.Th>
              <Table.Th>State</Table.Th>
              <Table.Th>Actions</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(versions.data || []).map((v) => (
              <Table.Tr key={v.version}>
                <Table.Td><Text size="sm" fw={500}>{v.version}</Text></Table.Td>
                <Table.Td><Text size="sm">{v.display_name}</Text><Text size="xs" c="dimmed">{v.description}</Text></Table.Td>
                <Table.Td><StatusBadge value={v.state} label={`Version ${v.version}`} /></Table.Td>
                <Table.Td>
                  <Group gap={4}>
                    <Button size="compact-sm" variant="subtle" onClick={() => setShownVersion(v.version)} aria-label={`Details of version ${v.version}`}>Details</Button>
                    {canManage && (v.state === 'ACTIVATED' ? (
                      <Button size="compact-sm" variant="subtle" color="orange" aria-label={`Deactivate version ${v.version}`}
                        onClick={() => setVersionState.mutate({ version: v.version, action: 'deactivate' })}>Deactivate</Button>
                    ) : (
                      <Button size="compact-sm" variant="subtle" aria-label={`Activate version ${v.version}`}
                        onClick={() => setVersionState.mutate({ version: v.version, action: 'activate' })}>Activate</Button>
                    ))}
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </QueryState>
      <Title order={4} size="h5">Installed on</Title>
      <Installs service={service} installs={installs} supervisors={supervisors} versions={versions.data || []} canManage={canManage} />
      {shownVersion && <VersionDetails service={service} version={shownVersion} onClose={() => setShownVersion(null)} />}
    </Stack>
  );
}

function Installs({ service, installs, supervisors, versions, canManage }) {
  const clusterNames = useClusterNames();
  const identities = useSupervisorIdentities();
  const [cluster, setCluster] = useState(null);
  const [version, setVersion] = useState(null);
  const install = useApiMutation(() => api('POST', `${NS}/clusters/${cluster}/supervisor-services`, { supervisor_service: service, version }),
    { onSuccess: () => setCluster(null) });
  const supervisorName = (c) => (identities[c] && identities[c].name) || clusterNames[c] || c;
  const installed = new Set(installs.map((i) => i.cluster));
  const candidates = supervisors.filter((s) => s.config_status === 'RUNNING' && !installed.has(s.cluster));
  const activeVersions = versions.filter((v) => v.state === 'ACTIVATED');
  return (
    <Stack gap="xs">
      {installs.length === 0 ? (
        <Text size="sm" c="dimmed">No Supervisor runs this service.</Text>
      ) : (
        <InstallsTable label={`Supervisors running ${service}`} first="Supervisor" installs={installs} rowKey={(i) => i.cluster}
          name={(i) => <Anchor component={Link} to={`/supervisors/${i.cluster}`} size="sm">{supervisorName(i.cluster)}</Anchor>}
          statusLabel={(i) => `${service} on ${supervisorName(i.cluster)}`} />
      )}
      {canManage && candidates.length > 0 && activeVersions.length > 0 && (
        <Group align="flex-end">
          <Select label="Install on" placeholder="Choose a Supervisor" w={240} value={cluster} onChange={setCluster}
            data={candidates.map((c) => ({ value: c.cluster, label: supervisorName(c.cluster) }))} />
          <Select label="Version" placeholder="Choose a version" w={160} value={version} onChange={setVersion}
            data={activeVersions.map((v) => v.version)} />
          <Button onClick={() => install.mutate()} disabled={!cluster || !version} loading={install.isPending}>Install</Button>
        </Group>
      )}
      <ErrorAlert error={install.error} title="Install refused" />
    </Stack>
  );
}

// decodeContent shows a version's base64 content as the YAML it is.
function decodeContent(content) {
  try {
    const bytes = Uint8Array.from(atob(content.replace(/\s/g, '')), (c) => c.charCodeAt(0));
    return new TextDecoder().decode(bytes);
  } catch {
    return content;
  }
}

function VersionDetails({ service, version, onClose }) {
  const info = useApi(`${SERVICES}/${service}/versions/${version}`);
  const v = info.data;
  return (
    <Modal opened onClose={onClose} title={`${service} ${version}`} size="xl">
      <QueryState query={info}>
        {v && (
          <Stack>
            <Fields
              rows={[
                ['Name', v.display_name],
                ['Description', v.description],
                ['State', <StatusBadge key="s" value={v.state} />],
                ['Content type', v.content_type],
                ['Trust', v.trust_verified ? 'signed by a trusted provider, verified' : 'not verified'],
                ['Registered by default', v.registered_by_default ? 'yes' : undefined],
              ]}
            />
            {v.EULA && (
              <>
                <Title order={4} size="h6">EULA</Title>
                <Text size="sm" style={{ whiteSpace: 'pre-wrap' }}>{v.EULA}</Text>
              </>
            )}
            {v.content && (
              <>
                <Title order={4} size="h6">Content</Title>
                <ScrollArea.Autosize mah={400}>
                  <Code block>{decodeContent(v.content)}</Code>
                </ScrollArea.Autosize>
              </>
            )}
          </Stack>
        )}
      </QueryState>
    </Modal>
  );
}

function toBase64(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

// RegisterForm registers a new service (service undefined) or adds a version to one, from a Carvel
// package or a vSphere application service descriptor pasted as YAML.
function RegisterForm({ service, onClose }) {
  const [format, setFormat] = useState('carvel');
  const [yaml, setYaml] = useState('');
  const [trusted, setTrusted] = useState(false);
  const [acceptEula, setAcceptEula] = useState(false);
  const register = useApiMutation(() => {
    const content = toBase64(yaml);
    const body = format === 'carvel'
      ? { carvel_spec: { version_spec: { content } } }
      : { vsphere_spec: { version_spec: { content, trusted_provider: trusted, accept_EULA: acceptEula } } };
    return api('POST', service ? `${SERVICES}/${service}/versions` : SERVICES, body);
  }, { onSuccess: onClose });
  return (
    <Modal opened onClose={onClose} title={service ? `Add a version to ${service}` : 'Register a Supervisor Service'} size="xl">
      <Stack>
        <SegmentedControl aria-label="Content format" value={format} onChange={setFormat}
          data={[{ value: 'carvel', label: 'Carvel package' }, { value: 'vsphere', label: 'vSphere service descriptor' }]} />
        <Textarea label="Service definition (YAML)" autosize minRows={8} maxRows={20} value={yaml}
          onChange={(e) => setYaml(e.currentTarget.value)} required
          description={format === 'carvel' ? 'One PackageMetadata and one Package' : 'A SupervisorService document and the service\'s objects'} />
        {format === 'vsphere' && (
          <Group>
            <Checkbox label="Signed by a trusted provider" checked={trusted} onChange={(e) => setTrusted(e.currentTarget.checked)} />
            <Checkbox label="Accept the EULA" checked={acceptEula} onChange={(e) => setAcceptEula(e.currentTarget.checked)} />
          </Group>
        )}
        <ErrorAlert error={register.error} title="Registration refused" />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>Cancel</Button>
          <Button onClick={() => register.mutate()} disabled={!yaml.trim()} loading={register.isPending}>Register</Button>
        </Group>
      </Stack>
    </Modal>
  );
}
