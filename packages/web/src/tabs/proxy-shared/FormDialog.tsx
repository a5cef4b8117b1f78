/**
 * The console's FormModal for the proxy settings' list-shaped forms: server field issues land on
 * nested fields (`ports.1.port`), and every value the form holds is submitted, mounted or not.
 */
import type { ReactNode } from 'react';
import type { FormInstance } from 'antd';
import { FormModal } from '../../components/FormModal.tsx';
import { placeIssues } from './issues.ts';

export interface FormDialogProps<V> {
  title: ReactNode;
  open: boolean;
  onClose: () => void;
  /** Called with the form's values (all of them, mounted or not); throw to keep the dialog open. */
  onSubmit: (values: V) => Promise<void>;
  initialValues: Partial<V>;
  okText?: string;
  width?: number;
  children: ReactNode | ((form: FormInstance<V>) => ReactNode);
}

/** Form-in-a-modal with nested issue placement. */
export function FormDialog<V extends object>({ width = 560, ...props }: FormDialogProps<V>) {
  return <FormModal<V> {...props} width={width} fields={[]} place={placeIssues} allValues />;
}
