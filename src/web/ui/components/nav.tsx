// The top bar: the skip link, the appliance's name, the pages, the theme.
// On a phone the page links become a bar that scrolls sideways rather than a
// hidden menu: every page stays one tap away.

import { useLocation } from 'preact-iso/router';
import { useState } from 'preact/hooks';
import { applyTheme, storedTheme, type Theme } from '../theme.js';
import { Logo } from './logo.js';

const pages = [
  ['/', 'Dashboard'],
  ['/tasks', 'Tasks'],
  ['/receive', 'Receive'],
  ['/peers', 'Peers'],
  ['/pools', 'Pools'],
  ['/appliance', 'Appliance'],
] as const;

function isCurrent(page: string, path: string): boolean {
  return page === '/' ? path === '/' : path === page || path.startsWith(`${page}/`);
}

export function TopBar(props: { applianceName: string | null; connected: boolean }) {
  const { path } = useLocation();
  return (
    <header class="topbar">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <div class="topbar-row">
        <a class="brand" href="/">
          <Logo />
          Ferry
        </a>
        {props.applianceName !== null && <span class="appliance-name" title="This appliance">{props.applianceName}</span>}
        <span class={props.connected ? 'live-dot live-on' : 'live-dot'} title={props.connected ? 'Live updates on' : 'Live updates reconnecting'}>
          <span class="visually-hidden">{props.connected ? 'Live updates on' : 'Live updates reconnecting'}</span>
        </span>
        <ThemeSwitch inBar />
      </div>
      <nav class="nav" aria-label="Pages">
        <ul>
          {pages.map(([href, label]) => (
            <li key={href}>
              <a href={href} class="nav-link" aria-current={isCurrent(href, path) ? 'page' : undefined}>
                {label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
    </header>
  );
}

const themeLabels: Readonly<Record<Theme, string>> = { system: 'Theme: system', light: 'Theme: light', dark: 'Theme: dark' };
const nextTheme: Readonly<Record<Theme, Theme>> = { system: 'light', light: 'dark', dark: 'system' };

/** A quiet link-like button in the top bar; a button like its neighbours elsewhere. */
export function ThemeSwitch(props: { inBar?: boolean }) {
  const [theme, setTheme] = useState<Theme>(storedTheme);
  return (
    <button
      type="button"
      class={props.inBar ? 'btn btn-ghost btn-small theme-switch' : 'btn btn-secondary'}
      onClick={() => {
        const next = nextTheme[theme];
        applyTheme(next);
        setTheme(next);
      }}
      title="Switch between the system's theme, light and dark"
    >
      {themeLabels[theme]}
    </button>
  );
}
