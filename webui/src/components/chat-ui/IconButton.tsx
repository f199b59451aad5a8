// A button that shows only an icon: its one label is both what a screen reader says and the
// tooltip, so no icon button can ship without either.
import type { ButtonHTMLAttributes, ComponentChildren } from 'preact';

type Props = Omit<ButtonHTMLAttributes<HTMLButtonElement>, 'type' | 'title' | 'aria-label'> & {
  label: string;
  testid?: string;
  children: ComponentChildren;
};

export function IconButton({ label, testid, children, ...rest }: Props) {
  return (
    <button type="button" {...rest} aria-label={label} title={label} data-testid={testid}>
      {children}
    </button>
  );
}
