import React from 'react';
import { NavLink as RouterLink, Navigate, Route, Routes, useLocation } from 'react-router-dom';
import {
  ActionIcon, AppShell, Burger, Button, Center, Group, Loader, NavLink, Text, Title, Tooltip,
  useComputedColorScheme, useMantineColorScheme,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { SessionProvider, useSession } from './session.jsx';
import { LoginPage } from './pages/Login.jsx';
import { SupervisorsPage, SupervisorPage, EnableSupervisorPage } from './pages/Supervisors.jsx';
import { NamespacesPage, NamespacePage } from './pages/Namespaces.jsx';
import { VmClassesPage } from './pages/VmClasses.jsx';
import { ServicesPage } from './pages/Services.jsx';
import { ResourcesPage } from './pages/Resources.jsx';

export function App() {
  return (
    <SessionProvider>
      <Gate />
    </SessionProvider>
  );
}

function Gate() {
  const { loading, session } = useSession();
  if (loading) {
    return (
      <Center h="100vh">
        <Loader aria-label="Loading" />
      </Center>
    );
  }
  if (!session) return <LoginPage />;
  return <Shell />;
}

const sections = [
  { to: '/supervisors', label: 'Supervisors' },
  { to: '/namespaces', label: 'Namespaces' },
  { to: '/vm-classes', label: 'VM classes' },
  { to: '/services', label: 'Services' },
  { to: '/resources', label: 'Resources' },
];

function ColorSchemeToggle() {
  const { setColorScheme } = useMantineColorScheme();
  const scheme = useComputedColorScheme('light');
  const next = scheme === 'dark' ? 'light' : 'dark';
  return (
    <Tooltip label={`Switch to ${next} theme`}>
      <ActionIcon variant="default" size="lg" aria-label={`Switch to ${next} theme`} onClick={() => setColorScheme(next)}>
        {scheme === 'dark' ? '☀' : '☾'}
      </ActionIcon>
    </Tooltip>
  );
}

function Shell() {
  const { session, logout } = useSession();
  const [opened, { toggle }] = useDisclosure();
  const location = useLocation();
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group>
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Title order={1} size="h4">wcpd · Workload Management</Title>
          </Group>
          <Group>
            <Text size="sm" c="dimmed" data-testid="user-name">{session.user}</Text>
            <ColorSchemeToggle />
            <Button variant="default" onClick={logout}>Log out</Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="Main">
        {sections.map((s) => (
          <NavLink
            key={s.to}
            component={RouterLink}
            to={s.to}
            label={s.label}
            active={location.pathname.startsWith(s.to)}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        <Routes>
          <Route path="/" element={<Navigate to={session.devops ? "/namespaces" : "/supervisors"} replace />} />
          <Route path="/supervisors" element={<SupervisorsPage />} />
          <Route path="/supervisors/enable" element={<EnableSupervisorPage />} />
          <Route path="/supervisors/:id" element={<SupervisorPage />} />
          <Route path="/namespaces" element={<NamespacesPage />} />
          <Route path="/namespaces/:name" element={<NamespacePage />} />
          <Route path="/vm-classes" element={<VmClassesPage />} />
          <Route path="/services" element={<ServicesPage />} />
          <Route path="/resources" element={<ResourcesPage />} />
          <Route path="/resources/:cluster" element={<ResourcesPage />} />
          <Route path="*" element={<Text>No page here. Pick a section on the left.</Text>} />
        </Routes>
      </AppShell.Main>
    </AppShell>
  );
}
