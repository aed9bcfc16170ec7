// A used-against-limit bar: the share of the limit in use, coloured as it nears the limit, with the
// figures written out so the bar is never the only way to read them.
import React from 'react';
import { Group, Progress, Stack, Text } from '@mantine/core';

// unit follows the figures when format leaves them bare ("3 of 10 pods").
export function UsageBar({ label, used, limit, format = String, unit = '', compact = false }) {
  const hasLimit = limit !== undefined && limit !== null;
  const measured = used !== undefined && used !== null;
  const percent = hasLimit && limit > 0 ? Math.min(100, (100 * (used || 0)) / limit) : 0;
  const color = percent >= 90 ? 'red' : percent >= 70 ? 'yellow' : 'blue';
  const suffix = unit ? ` ${unit}` : '';
  let text;
  if (measured) text = hasLimit ? `${format(used)} of ${format(limit)}${suffix}` : `${format(used)}${suffix}, no limit`;
  else text = hasLimit ? `limit ${format(limit)}${suffix}` : 'no limit';
  return (
    <Stack gap={2} miw={compact ? 140 : undefined}>
      <Group justify="space-between" gap="xs" wrap="nowrap">
        {!compact && <Text size="sm" fw={500}>{label}</Text>}
        <Text size={compact ? 'xs' : 'sm'} c="dimmed">{text}</Text>
      </Group>
      <Progress
        value={percent}
        color={color}
        size={compact ? 'sm' : 'lg'}
        aria-label={`${label}: ${text}`}
      />
    </Stack>
  );
}
