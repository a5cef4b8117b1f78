/**
 * A modal form whose server field issues land on nested fields (`ports.1.port`), for the proxy
 * settings' list-shaped forms; otherwise like the console's FormModal.
 */
import { useEffect, useState, type ReactNode } from 'react';
import { Alert, Form, Modal, type FormInstance } from 'antd';
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
export function FormDialog<V extends object>(props: FormDialogProps<V>) {
  const [form] = Form.useForm<V>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  useEffect(() => {
    if (props.open) {
      form.resetFields();
      setError(undefined);
    }
  }, [props.open, form]);

  async function submit(): Promise<void> {
    try {
      await form.validateFields();
    } catch {
      return; // antd marks the fields itself
    }
    setBusy(true);
    setError(undefined);
    try {
      await props.onSubmit(form.getFieldsValue(true) as V);
      props.onClose();
    } catch (err) {
      setError(placeIssues(form, err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal title={props.title} open={props.open} onOk={() => void submit()} onCancel={props.onClose} okText={props.okText ?? 'Save'} confirmLoading={busy} width={props.width ?? 560} destroyOnHidden>
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 16 }} />}
      <Form form={form} layout="vertical" initialValues={props.initialValues} onFinish={() => void submit()}>
        {typeof props.children === 'function' ? props.children(form) : props.children}
        <button type="submit" hidden />
      </Form>
    </Modal>
  );
}
