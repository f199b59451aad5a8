import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { libraryVersion, onLibraryLoaded, StreamRenderer } from '../markdown/render';

interface Props {
  text: string;
  streaming: boolean;
}

/** An assistant message rendered from markdown (sanitized HTML). */
export function Markdown({ text, streaming }: Props) {
  const renderer = useRef<StreamRenderer | null>(null);
  renderer.current ??= new StreamRenderer();
  const [version, setVersion] = useState(libraryVersion);
  useEffect(() => onLibraryLoaded(() => setVersion(libraryVersion)), []);
  const html = useMemo(() => renderer.current!.render(text, streaming).trim(), [text, streaming, version]);
  return <div class="text md" dangerouslySetInnerHTML={{ __html: html }} />;
}
