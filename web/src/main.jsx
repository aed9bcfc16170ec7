import React from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router-dom';
import { MantineProvider, createTheme, darken } from '@mantine/core';
import { Notifications } from '@mantine/notifications';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import '@mantine/core/styles.css';
import '@mantine/charts/styles.css';
import '@mantine/notifications/styles.css';
import './app.css';
import { App } from './App.jsx';

// Shade 8 of blue keeps white on buttons and blue links on white at 4.5:1 or more (WCAG AA); shade 6,
// Mantine's default in the light theme, gives 3.5:1.
const theme = createTheme({ primaryColor: 'blue', primaryShade: { light: 8, dark: 8 }, defaultRadius: 'sm' });

// Text contrast to WCAG AA (4.5:1, checked by web/e2e/accessibility.test.mjs): Mantine's dimmed text
// (gray 6 in the light theme, dark 2 in the dark one) and its light badges' text (shade 9 on shade
// 1) fall short of it; these are one step darker, or lighter in the dark theme.
function cssVariablesResolver(t) {
  const lightColors = {};
  for (const [name, shades] of Object.entries(t.colors)) {
    lightColors[`--mantine-color-${name}-light-color`] = darken(shades[9], 0.3);
  }
  return {
    variables: {},
    light: { '--mantine-color-dimmed': 'var(--mantine-color-gray-7)', ...lightColors },
    dark: { '--mantine-color-dimmed': 'var(--mantine-color-dark-1)' },
  };
}

// Every query follows the server on its own: the pages poll (refetchInterval) rather than ask the
// user to reload, and a refused call is shown, not retried three times.
const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: false, refetchInterval: 3000, refetchOnWindowFocus: true } },
});

createRoot(document.getElementById('root')).render(
  <React.StrictMode>
    <MantineProvider theme={theme} cssVariablesResolver={cssVariablesResolver} defaultColorScheme="auto">
      <Notifications />
      <QueryClientProvider client={queryClient}>
        <BrowserRouter basename="/ui">
          <App />
        </BrowserRouter>
      </QueryClientProvider>
    </MantineProvider>
  </React.StrictMode>,
);
