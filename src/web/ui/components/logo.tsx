// Ferry's mark: a boat on a wave, drawn inline so it needs no image request
// and follows the text colour in both themes.

export function Logo() {
  return (
    <svg class="logo" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">
      <path d="M4 14h16l-2.5 4h-11z" fill="currentColor" />
      <path d="M7 13V9h7l3 4" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round" />
      <path d="M10 9V6h2" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
      <path d="M2 21c2 0 2-1.2 4-1.2s2 1.2 4 1.2 2-1.2 4-1.2 2 1.2 4 1.2 2-1.2 4-1.2" fill="none" stroke="var(--primary)" stroke-width="1.6" stroke-linecap="round" />
    </svg>
  );
}
