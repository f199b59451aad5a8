// A list fetched page by page with a cursor (CONTRACT §4 listings): the first page on mount,
// more on demand; an error is shown through `fail`, which also reacts to a lost session.

import { useEffect, useState } from 'preact/hooks';

interface Page<T> {
  items: T[];
  next_cursor?: string | number | null;
}

export function usePages<T>(
  fetch: (params: { cursor?: string | number; limit: number }) => Promise<Page<T>>,
  limit: number,
  fail: (err: unknown) => string,
) {
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | number | null>(null);
  const [loading, setLoading] = useState(true);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const fetchPage = async (from?: string | number) => {
    setLoading(true);
    setError(null);
    try {
      const page = await fetch(from === undefined ? { limit } : { cursor: from, limit });
      setItems((old) => (from === undefined ? page.items : [...old, ...page.items]));
      setCursor(page.next_cursor ?? null);
      setLoaded(true);
    } catch (err) {
      setError(fail(err));
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    void fetchPage();
  }, []);

  return { items, cursor, loading, loaded, error, more: () => cursor !== null && fetchPage(cursor) };
}
