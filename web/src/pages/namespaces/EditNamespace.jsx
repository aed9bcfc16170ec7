// Changing a namespace with update (PATCH): only what the form changed is sent, an emptied limit is
// removed with its _unset flag. A role holder edits the description only; the limits, storage and
// VM Service stay the administrator's (the API refuses them to roles).
import React, { useEffect } from 'react';
import { Modal, MultiSelect, NumberInput, SimpleGrid, Stack, Text, Textarea } from '@mantine/core';
import { useForm } from '@mantine/form';
import { api, useApi, useApiMutation } from '../../api.js';
import { ErrorAlert, FormActions } from '../../components.jsx';
import { LIMITS, limitLabel, VM_CLASSES, limitsForUpdate, namespacePath, useInventoryNames } from './data.js';

function initialValues(ns) {
  const rs = ns.resource_spec || {};
  const specs = ns.storage_specs || [];
  return {
    description: ns.description || '',
    ...Object.fromEntries(LIMITS.map((l) => [l.key, rs[l.key] ?? ''])),
    policies: specs.map((s) => s.policy),
    policyLimits: Object.fromEntries(specs.map((s) => [s.policy, s.limit ?? ''])),
  };
}

export function EditNamespaceModal({ opened, onClose, name, ns, full }) {
  const inventory = useInventoryNames();
  const form = useForm({ initialValues: initialValues(ns) });
  useEffect(() => {
    if (opened) form.setValues(initialValues(ns));
    // Only when the dialog opens: the namespace is polled and must not overwrite what is typed.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [opened]);
  const update = useApiMutation((v) => {
    const spec = {};
    if (v.description !== (ns.description || '')) spec.description = v.description;
    if (full) {
      const resources = limitsForUpdate(v, ns.resource_spec || {});
      if (Object.keys(resources).length) spec.resource_spec = resources;
      spec.storage_specs = v.policies.map((policy) => {
        const limit = v.policyLimits[policy];
        return limit === '' || limit === undefined ? { policy } : { policy, limit: Number(limit) };
      });
    }
    return api('PATCH', namespacePath(name), spec);
  }, { onSuccess: onClose });
  const close = () => {
    update.reset();
    onClose();
  };
  const policyName = (id) => inventory.policyName[id] || id;
  return (
    <Modal closeButtonProps={{ 'aria-label': 'Close' }} opened={opened} onClose={close} title={`Edit namespace ${name}`} size="lg">
      <form onSubmit={form.onSubmit((v) => update.mutate(v))}>
        <Stack>
          <ErrorAlert error={update.error} />
          <Textarea label="Description" autosize minRows={2} data-autofocus {...form.getInputProps('description')} />
          {full ? (
            <>
              <SimpleGrid cols={2}>
                {LIMITS.map((l) => (
                  <NumberInput key={l.key} label={limitLabel(l)} placeholder="No limit" min={l.min}
                    allowDecimal={false} allowNegative={false} clampBehavior="none" {...form.getInputProps(l.key)} />
                ))}
              </SimpleGrid>
              <MultiSelect label="Storage policies" searchable
                data={inventory.policies.map((p) => ({ value: p.policy, label: p.name }))}
                {...form.getInputProps('policies')} />
              {form.values.policies.length > 0 && (
                <SimpleGrid cols={2}>
                  {form.values.policies.map((p) => (
                    <NumberInput key={p} label={`Limit on ${policyName(p)} (MiB)`} placeholder="No limit" min={1}
                      allowDecimal={false} allowNegative={false} {...form.getInputProps(`policyLimits.${p}`)} />
                  ))}
                </SimpleGrid>
              )}
            </>
          ) : (
            <Text size="sm" c="dimmed">Your role lets you change the description; limits, storage and access are the administrator's.</Text>
          )}
          <FormActions onCancel={close} loading={update.isPending}>Save</FormActions>
        </Stack>
      </form>
    </Modal>
  );
}

// EditVmServiceModal picks the VM classes and VM Service libraries; update replaces vm_service_spec
// as a whole, so both lists are sent.
export function EditVmServiceModal({ opened, onClose, name, ns }) {
  const inventory = useInventoryNames();
  const classes = useApi(opened ? VM_CLASSES : null, { refetchInterval: 30000 });
  const current = () => ({
    vm_classes: (ns.vm_service_spec || {}).vm_classes || [],
    content_libraries: (ns.vm_service_spec || {}).content_libraries || [],
  });
  const form = useForm({ initialValues: current() });
  useEffect(() => {
    if (opened) form.setValues(current());
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [opened]);
  const update = useApiMutation((v) => api('PATCH', namespacePath(name), { vm_service_spec: v }), { onSuccess: onClose });
  const close = () => {
    update.reset();
    onClose();
  };
  return (
    <Modal closeButtonProps={{ 'aria-label': 'Close' }} opened={opened} onClose={close} title={`VM Service of ${name}`} size="lg">
      <form onSubmit={form.onSubmit((v) => update.mutate(v))}>
        <Stack>
          <ErrorAlert error={update.error} />
          <MultiSelect label="VM classes" searchable data-autofocus
            data={(classes.data || []).map((c) => ({ value: c.id, label: `${c.id} (${c.cpu_count} vCPU, ${c.memory_MB / 1024} GiB)` }))}
            {...form.getInputProps('vm_classes')} />
          <MultiSelect label="Content libraries" data={inventory.libraries.map((l) => ({ value: l.id, label: l.name }))}
            {...form.getInputProps('content_libraries')} />
          <FormActions onCancel={close} loading={update.isPending}>Save</FormActions>
        </Stack>
      </form>
    </Modal>
  );
}
