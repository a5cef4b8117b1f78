/**
 * Superuser settings that apply to every node: the classes catalog (where it came from, when it was
 * last fetched, why the last fetch failed, refresh now) and the default class set — what a machine
 * gets when its nodes disagree.
 */
import { useEffect, useState } from 'react';
import { Alert, App, Button, Col, Descriptions, Form, Input, Row, Skeleton, Space, Typography } from 'antd';
import { ReloadOutlined, SaveOutlined } from '@ant-design/icons';
import { api, ApiError, messageOf } from '../../api.ts';
import { fieldOf } from '../../components/issues.ts';
import { ClassesEditor } from './ClassesEditor.tsx';
import { markFields } from './formErrors.ts';
import { classDraftsOf, classesOf, fieldOfIssue, type CatalogStatus, type ClassDraft, type Defaults, type DraftError } from './model.ts';

const when = (t: string | null) => (t ? new Date(t).toLocaleString() : <Typography.Text type="secondary">never</Typography.Text>);

/** Catalog status with Refresh; `onCatalog` passes a refreshed catalog up to the editors. */
function CatalogStatusView({ catalog, onCatalog }: { catalog: CatalogStatus; onCatalog: (c: CatalogStatus) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  async function refresh(): Promise<void> {
    setBusy(true);
    try {
      onCatalog(await api.post<CatalogStatus>('/puppet/classes/refresh'));
      setError(undefined);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  const source = catalog.source === 'url' ? (catalog.sourceUrl ?? 'URL') : catalog.source === 'upload' ? 'uploaded through the API' : 'none yet';
  return (
    <Space orientation="vertical" size={8} style={{ width: '100%' }} data-testid="catalog-status">
      <Descriptions size="small" column={1} bordered styles={{ label: { width: 150 } }}>
        <Descriptions.Item label="Classes">{catalog.classes.length}</Descriptions.Item>
        <Descriptions.Item label="Current list from">{source}</Descriptions.Item>
        <Descriptions.Item label="Configured URL">{catalog.url ? <code>{catalog.url}</code> : <Typography.Text type="secondary">not set (CANOPY_PUPPET_CLASSES_URL)</Typography.Text>}</Descriptions.Item>
        <Descriptions.Item label="List changed">{when(catalog.updatedAt)}</Descriptions.Item>
        <Descriptions.Item label="Last fetched">{when(catalog.fetchedAt)}</Descriptions.Item>
        <Descriptions.Item label="Last attempt">{when(catalog.lastAttemptAt)}</Descriptions.Item>
      </Descriptions>
      {catalog.lastError && <Alert type="error" showIcon title="The last fetch failed" description={catalog.lastError} />}
      {error && <Alert type="error" showIcon title={error} closable onClose={() => setError(undefined)} />}
      <Button icon={<ReloadOutlined />} loading={busy} onClick={() => void refresh()} disabled={!catalog.url}>
        Refresh from URL
      </Button>
    </Space>
  );
}

interface DefaultsDraft {
  classes: ClassDraft[];
  environment: string;
}

/** Editor of `PUT /puppet/defaults`. */
function DefaultsEditor({ catalog }: { catalog: CatalogStatus }) {
  const { message } = App.useApp();
  const [form] = Form.useForm<DefaultsDraft>();
  const [defaults, setDefaults] = useState<Defaults>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.get<Defaults>('/puppet/defaults').then(setDefaults, (err: unknown) => setError(messageOf(err)));
  }, []);
  useEffect(() => {
    if (defaults) form.setFieldsValue({ classes: classDraftsOf(defaults.classes), environment: defaults.environment });
  }, [defaults, form]);

  async function save(): Promise<void> {
    const draft = form.getFieldsValue(true) as DefaultsDraft;
    const errors: DraftError[] = [];
    const classes = classesOf(draft.classes ?? [], errors);
    markFields(form, errors);
    if (errors.length > 0) return setError('Not saved: fix the marked fields.');
    setBusy(true);
    try {
      setDefaults(await api.put<Defaults>('/puppet/defaults', { classes, environment: draft.environment?.trim() || 'production' }));
      setError(undefined);
      void message.success('Saved the default classes');
    } catch (err) {
      const issues = err instanceof ApiError ? err.issues : [];
      const asDraft = { classMode: 'own' as const, classes: draft.classes ?? [], parameters: [], environment: '' };
      const placed = issues.flatMap((i) => {
        const field = fieldOfIssue(fieldOf(i.path), i.message, asDraft);
        return field ? [{ field, message: i.message }] : [];
      });
      markFields(form, placed);
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  if (!defaults && !error) return <Skeleton active paragraph={{ rows: 2 }} />;
  return (
    <Form form={form} name="puppet-defaults" layout="vertical" disabled={busy} data-testid="puppet-defaults">
      <Typography.Paragraph type="secondary" style={{ marginBottom: 8 }}>
        What a machine gets when its nodes ask for different classes. Keep it to the base environment (OS, users, monitoring), never an application.
      </Typography.Paragraph>
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 8 }} />}
      <ClassesEditor name="classes" catalog={catalog.classes} emptyHint="No default classes: such machines get none." />
      <Form.Item name="environment" label="Environment" style={{ marginTop: 12 }}>
        <Input placeholder="production" style={{ maxWidth: 240 }} />
      </Form.Item>
      <Button icon={<SaveOutlined />} onClick={() => void save()} loading={busy}>
        Save default classes
      </Button>
    </Form>
  );
}

/** Both panels side by side. */
export function PuppetSettings({ catalog, onCatalog }: { catalog: CatalogStatus; onCatalog: (c: CatalogStatus) => void }) {
  return (
    <Row gutter={24}>
      <Col xs={24} xl={11}>
        <Typography.Title level={5}>Classes catalog</Typography.Title>
        <CatalogStatusView catalog={catalog} onCatalog={onCatalog} />
      </Col>
      <Col xs={24} xl={13}>
        <Typography.Title level={5}>Default classes</Typography.Title>
        <DefaultsEditor catalog={catalog} />
      </Col>
    </Row>
  );
}
