/** A modal holding one form: submits, shows the server's detail and puts field issues on fields. */
import { useEffect, useState, type ReactNode } from 'react';
import { Alert, Form, Modal, type FormInstance } from 'antd';
import { applyIssues } from './issues.ts';

export interface FormModalProps<V> {
  title: ReactNode;
  open: boolean;
  onClose: () => void;
  /** Called with the validated values; throw (e.g. an ApiError) to keep the modal open. */
  onSubmit: (values: V) => Promise<void>;
  /** Names of the form's fields, so server issues about them land next to them. */
  fields: readonly string[];
  /** How server issues land on fields; default: by first path segment on `fields` (flat forms). */
  place?: (form: FormInstance<V>, err: unknown) => string | undefined;
  /** Submit every value the form holds, mounted or not, instead of the validated ones. */
  allValues?: boolean;
  /** Server field name → form field name, where they differ. */
  aliases?: Record<string, string>;
  okText?: string;
  initialValues?: Partial<V>;
  width?: number;
  children: ReactNode | ((form: FormInstance<V>) => ReactNode);
}

/** Form-in-a-modal with the console's error handling. */
export function FormModal<V extends object>(props: FormModalProps<V>) {
  const [form] = Form.useForm<V>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  // Start from the current initial values each time it opens (the thing edited may have changed).
  useEffect(() => {
    if (props.open) {
      form.resetFields();
      setError(undefined);
    }
  }, [props.open, form]);

  async function submit(): Promise<void> {
    let values: V;
    try {
      values = await form.validateFields();
    } catch {
      return; // antd shows the client-side errors itself
    }
    if (props.allValues) values = form.getFieldsValue(true) as V;
    setBusy(true);
    setError(undefined);
    try {
      await props.onSubmit(values);
      props.onClose();
    } catch (err) {
      setError(props.place ? props.place(form, err) : applyIssues(form, props.fields, err, props.aliases));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal
      title={props.title}
      open={props.open}
      onOk={() => void submit()}
      onCancel={props.onClose}
      okText={props.okText ?? 'Save'}
      confirmLoading={busy}
      width={props.width ?? 520}
      destroyOnHidden
    >
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 16 }} />}
      <Form form={form} layout="vertical" initialValues={props.initialValues} onFinish={() => void submit()}>
        {typeof props.children === 'function' ? props.children(form) : props.children}
        {/* Enter in a field submits the form. */}
        <button type="submit" hidden />
      </Form>
    </Modal>
  );
}
