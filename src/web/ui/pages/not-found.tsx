import { EmptyState } from '../components/card.js';
import { useApp } from '../context.js';
import { usePageTitle } from '../hooks.js';

export function NotFoundPage() {
  const { applianceName } = useApp();
  usePageTitle('Not found', applianceName);
  return (
    <>
      <h1>Page not found</h1>
      <EmptyState title="There is no page at this address.">
        <a href="/">Go to the dashboard</a>
      </EmptyState>
    </>
  );
}
