// Light, dark, or as the system says. The choice is kept in localStorage and
// set as data-theme on <html>, which styles.css reads; 'system' removes it so
// that prefers-color-scheme decides.

export type Theme = 'system' | 'light' | 'dark';

const KEY = 'ferry-theme';

export function storedTheme(): Theme {
  try {
    const value = localStorage.getItem(KEY);
    return value === 'light' || value === 'dark' ? value : 'system';
  } catch {
    // Storage can be off (private windows, policies): then the system decides.
    return 'system';
  }
}

export function applyTheme(theme: Theme): void {
  if (theme === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  try {
    if (theme === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, theme);
  } catch {
    // Not kept across visits, but applied now.
  }
}
