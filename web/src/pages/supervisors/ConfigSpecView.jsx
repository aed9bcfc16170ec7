// ConfigSpecView shows a VirtualMachineConfigSpec in the vSphere API's JSON (objects typed by
// `_typeName`, wrapped primitives by `_value`) as nested labelled fields, so a class's hardware reads
// as hardware rather than as JSON. The raw JSON stays one click away.
import React from 'react';
import { Accordion, Badge, Box, Code, Group, Stack, Table, Text } from '@mantine/core';

// Names vSphere admins know these properties by; the rest are split from camelCase.
const labels = {
  numCPUs: 'vCPUs',
  numCoresPerSocket: 'Cores per socket',
  memoryMB: 'Memory (MB)',
  deviceChange: 'Devices',
  extraConfig: 'Advanced settings',
  cpuAllocation: 'CPU allocation',
  memoryAllocation: 'Memory allocation',
  vgpu: 'vGPU profile',
  allowedDevice: 'Allowed devices',
  vendorId: 'Vendor id',
  deviceId: 'Device id',
  guestId: 'Guest OS',
  firmware: 'Firmware',
  nestedHVEnabled: 'Nested virtualization',
  memoryReservationLockedToMax: 'Reserve all memory',
  latencySensitivity: 'Latency sensitivity',
};

export function propertyLabel(key) {
  if (labels[key]) return labels[key];
  const words = splitWords(key).replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// splitWords splits camelCase and acronyms: VirtualPCIPassthrough → Virtual PCI Passthrough.
function splitWords(name) {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2');
}

// typeLabel turns VirtualPCIPassthroughVmiopBackingInfo into "PCI passthrough vmiop backing info".
function typeLabel(type) {
  return splitWords(type.replace(/^Virtual/, ''));
}

function isWrapped(v) {
  return v && typeof v === 'object' && !Array.isArray(v) && '_value' in v;
}

function Value({ value }) {
  if (isWrapped(value)) return <Value value={value._value} />;
  if (value === null || value === undefined) return <Text size="sm" c="dimmed">—</Text>;
  if (typeof value === 'boolean') return <Text size="sm">{value ? 'yes' : 'no'}</Text>;
  if (typeof value !== 'object') return <Text size="sm">{String(value)}</Text>;
  if (Array.isArray(value)) {
    if (value.length === 0) return <Text size="sm" c="dimmed">none</Text>;
    if (value.every((v) => typeof v !== 'object' || isWrapped(v))) {
      return <Text size="sm">{value.map((v) => String(isWrapped(v) ? v._value : v)).join(', ')}</Text>;
    }
    // extraConfig is a list of key/value options: one row each reads best.
    if (value.every((v) => v && typeof v === 'object' && 'key' in v && 'value' in v && !('device' in v))) {
      return <Properties object={Object.fromEntries(value.map((o) => [o.key, o.value]))} raw />;
    }
    return (
      <Stack gap="xs">
        {value.map((v, i) => <ObjectBox key={i} object={v} />)}
      </Stack>
    );
  }
  return <ObjectBox object={value} />;
}

function ObjectBox({ object }) {
  // A device change reads as "add PCI passthrough" with the device's properties under it.
  const heading = object.operation && object.device
    ? `${object.operation} ${typeLabel(object.device._typeName || 'device')}`
    : object._typeName && typeLabel(object._typeName);
  const body = object.operation && object.device ? object.device : object;
  return (
    <Box pl="sm" style={{ borderLeft: '2px solid var(--mantine-color-default-border)' }}>
      {heading && <Badge variant="light" color="gray" mb={4} tt="none">{heading}</Badge>}
      <Properties object={body} />
    </Box>
  );
}

function Properties({ object, raw }) {
  const entries = Object.entries(object).filter(([k]) => k !== '_typeName');
  if (entries.length === 0) return <Text size="sm" c="dimmed">no properties</Text>;
  return (
    <Table withRowBorders={false} verticalSpacing={2}>
      <Table.Tbody>
        {entries.map(([k, v]) => (
          <Table.Tr key={k}>
            <Table.Th w={200} fw={500} style={{ verticalAlign: 'top' }}><Text size="sm">{raw ? k : propertyLabel(k)}</Text></Table.Th>
            <Table.Td><Value value={v} /></Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

export function ConfigSpecView({ spec }) {
  if (!spec) return <Text size="sm" c="dimmed">This class sets no config spec: its VMs get the vCPUs and memory above.</Text>;
  return (
    <Stack gap="xs">
      <Group gap="xs"><Badge variant="outline" tt="none">{spec._typeName || 'VirtualMachineConfigSpec'}</Badge></Group>
      <Properties object={spec} />
      <Accordion variant="contained">
        <Accordion.Item value="json">
          <Accordion.Control>Config spec as JSON</Accordion.Control>
          <Accordion.Panel>
            <Code block>{JSON.stringify(spec, null, 2)}</Code>
          </Accordion.Panel>
        </Accordion.Item>
      </Accordion>
    </Stack>
  );
}
