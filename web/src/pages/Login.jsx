import React, { useState } from 'react';
import { Button, Center, Paper, PasswordInput, Stack, TextInput, Title } from '@mantine/core';
import { useSession } from '../session.jsx';
import { ErrorAlert } from '../components.jsx';

export function LoginPage() {
  const { login } = useSession();
  const [user, setUser] = useState('administrator@vsphere.local');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(user, password);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Center h="100vh">
      <Paper withBorder p="xl" w={380} component="form" onSubmit={submit} aria-label="Log in to wcpd">
        <Stack>
          <Title order={1} size="h3">wcpd · Workload Management</Title>
          <ErrorAlert error={error} title="Login failed" />
          <TextInput label="User name" value={user} onChange={(e) => setUser(e.currentTarget.value)} autoComplete="username" required />
          <PasswordInput label="Password" value={password} onChange={(e) => setPassword(e.currentTarget.value)} autoComplete="current-password" required />
          <Button type="submit" loading={busy}>Log in</Button>
        </Stack>
      </Paper>
    </Center>
  );
}
