// One node's entitlement for one resource, drawn against what it and its siblings divide (the
// parent's entitlement): seed 003's "each object's part of the pool under contention". The bar is
// a meter for assistive technology; its value text says everything the picture shows.
import React from 'react';
import { Box, Group, Progress, Text, Tooltip } from '@mantine/core';

const markerColors = {
  reservation: 'var(--mantine-color-teal-filled)',
  limit: 'var(--mantine-color-red-filled)',
};

function percentOf(value, scale) {
  if (!scale || value === undefined || value === null || value < 0) return null;
  return Math.min(100, (100 * value) / scale);
}

function Marker({ kind, at, text }) {
  if (at === null) return null;
  return (
    <Tooltip label={text} withArrow>
      <Box
        data-marker={kind}
        style={{
          position: 'absolute',
          left: `calc(${at}% - 1px)`,
          top: -3,
          bottom: -3,
          width: 3,
          borderRadius: 1,
          background: markerColors[kind],
        }}
      />
    </Tooltip>
  );
}

// EntitlementBar draws entitlement (filled), what the node would use beyond it (its size, lighter),
// the reservation it holds and its limit (markers), and, in a what-if, the entitlement before the
// changes as a thin bar above. Amounts are in the resource's unit; format renders them.
export function EntitlementBar({
  label, entitlement, scale, reserved, limit, size, before, bound, format,
}) {
  const entitled = percentOf(entitlement, scale) || 0;
  // A node held at its limit cannot use its size beyond it, so only share-bound shortfalls show.
  const wanted = size && size > entitlement && bound !== 'LIMIT' ? Math.max(0, (percentOf(size, scale) || 0) - entitled) : 0;
  const beforeAt = before === undefined ? null : percentOf(before, scale) || 0;
  const share = scale ? (100 * entitlement) / scale : 0;
  const parts = [`${format(entitlement)} of ${format(scale)} (${share.toFixed(1)} %)`];
  if (bound) parts.push(`bound by ${bound.toLowerCase()}`);
  if (reserved) parts.push(`reservation held ${format(reserved)}`);
  if (limit !== undefined && limit !== null && limit >= 0) parts.push(`limit ${format(limit)}`);
  if (size) parts.push(`size ${format(size)}`);
  if (before !== undefined && before !== entitlement) parts.push(`was ${format(before)}`);
  const valueText = parts.join('; ');
  const delta = before !== undefined ? entitlement - before : 0;
  return (
    <Box
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={scale}
      aria-valuenow={entitlement}
      aria-valuetext={valueText}
      miw={170}
    >
      {beforeAt !== null && (
        <Progress
          size={5}
          mb={3}
          value={beforeAt}
          color="gray"
          aria-hidden
          title={`Before: ${format(before)}`}
        />
      )}
      <Box pos="relative">
        <Progress.Root size={12} aria-hidden>
          <Progress.Section value={entitled} color="blue" />
          {wanted > 0 && <Progress.Section value={wanted} color="orange" style={{ opacity: 0.45 }} />}
        </Progress.Root>
        {reserved > 0 && <Marker kind="reservation" at={percentOf(reserved, scale)} text={`Reservation held: ${format(reserved)}`} />}
        {limit !== undefined && limit !== null && limit >= 0 && (
          <Marker kind="limit" at={percentOf(limit, scale)} text={`Limit: ${format(limit)}`} />
        )}
      </Box>
      <Group gap={6} mt={2} wrap="nowrap">
        <Text size="xs" fw={600} style={{ whiteSpace: 'nowrap' }}>{format(entitlement)}</Text>
        {delta !== 0 && (
          <Text size="xs" fw={600} c={delta > 0 ? 'teal' : 'red'} style={{ whiteSpace: 'nowrap' }}>
            {delta > 0 ? '+' : '−'}{format(Math.abs(delta))}
          </Text>
        )}
      </Group>
      <Text size="xs" c="dimmed" style={{ whiteSpace: 'nowrap' }}>
        {share.toFixed(1)} % of parent · {bound && bound.toLowerCase()}
      </Text>
    </Box>
  );
}

// BarLegend explains the bars once, above the table.
export function BarLegend({ whatIf }) {
  const swatch = (bg, w = 14, h = 10) => (
    <Box aria-hidden style={{ width: w, height: h, borderRadius: 2, background: bg, display: 'inline-block' }} />
  );
  return (
    <Group gap="lg" mb="xs">
      <Group gap={6}>{swatch('var(--mantine-color-blue-filled)')}<Text size="xs">Entitlement under contention (share of the parent&apos;s)</Text></Group>
      <Group gap={6}>{swatch('var(--mantine-color-orange-filled)')}<Text size="xs">Size beyond entitlement</Text></Group>
      <Group gap={6}>{swatch(markerColors.reservation, 3, 14)}<Text size="xs">Reservation held</Text></Group>
      <Group gap={6}>{swatch(markerColors.limit, 3, 14)}<Text size="xs">Limit</Text></Group>
      {whatIf && <Group gap={6}>{swatch('var(--mantine-color-gray-filled)', 14, 5)}<Text size="xs">Before the what-if</Text></Group>}
    </Group>
  );
}
