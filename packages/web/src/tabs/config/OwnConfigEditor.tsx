/**
 * The node's own Puppet record: classes (inherit / none / own), top-scope parameters and
 * environment. Saves with If-Match; when someone else saved first, says who and lets the operator
 * choose between their version and overwriting it.
 */
import { useEffect, useMemo, useState } from 'react';
import { Alert, App, Button, Form, Input, Popconfirm, Radio, Space, Typography } from 'antd';
import { SaveOutlined, UndoOutlined } from '@ant-design/icons';
import { ApiError, messageOf, requestWithEtag, seg } from '../../api.ts';
import { fieldOf } from '../../components/issues.ts';
import { ReadOnlyNote, useAccess } from '../../components/permissions.tsx';
import { ClassesEditor } from './ClassesEditor.tsx';
import { markFields } from './formErrors.ts';
import { bodyOf, classDraftsOf, draftOf, fieldOfIssue, type CatalogClass, type ConfigDraft, type DraftError, type NodePuppet } from './model.ts';
import { NodeLink } from './NodeLink.tsx';
import { ParamRows } from './ParamRows.tsx';

export interface OwnConfigEditorProps {
  view: NodePuppet;
  etag: string | null;
  catalog: readonly CatalogClass[];
  /** The server's new state after a save, a removal or "load their version". */
  onChanged: (view: NodePuppet, etag: string | null) => void;
  onRemoved: () => void;
}

/** What stopped a save because the record changed meanwhile. */
interface Conflict {
  latest: NodePuppet;
  etag: string | null;
}

const MODES = [
  { value: 'inherit', label: 'Inherit from ancestors' },
  { value: 'none', label: 'No classes' },
  { value: 'own', label: 'Own classes' },
];

/** Edit form for `PUT /nodes/{path}/puppet`. */
export function OwnConfigEditor({ view, etag, catalog, onChanged, onRemoved }: OwnConfigEditorProps) {
  const { message } = App.useApp();
  const [form] = Form.useForm<ConfigDraft>();
  const initial = useMemo(() => draftOf(view.own), [view]);
  const [dirty, setDirty] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [conflict, setConflict] = useState<Conflict>();
  const mode = Form.useWatch('classMode', form) ?? initial.classMode;
  const path = view.nodePath;
  const url = `/nodes/${seg(path)}/puppet`;
  const eff = view.effective;
  // Without enc.write the record is shown, not offered for editing.
  const readOnly = !useAccess().can('enc.write');

  useEffect(() => {
    form.resetFields();
    setDirty(false);
    setError(undefined);
    setConflict(undefined);
  }, [initial, form]);

  async function save(ifMatch: string | null): Promise<void> {
    const draft = form.getFieldsValue(true) as ConfigDraft;
    const { body, errors } = bodyOf(draft);
    markFields(form, errors);
    setError(errors.length > 0 ? 'Not saved: fix the marked fields.' : undefined);
    if (errors.length > 0) return;
    setBusy(true);
    setConflict(undefined);
    try {
      const out = await requestWithEtag<NodePuppet>('PUT', url, { body, ...(ifMatch ? { headers: { 'if-match': ifMatch } } : {}) });
      void message.success(`Saved the Puppet configuration of ${path}`);
      onChanged(out.body, out.etag);
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) {
        const latest = await requestWithEtag<NodePuppet>('GET', url).catch(() => undefined);
        if (latest) setConflict({ latest: latest.body, etag: latest.etag });
        else setError(err.message);
        return;
      }
      const placed: DraftError[] = [];
      let unplaced = !(err instanceof ApiError) || err.issues.length === 0;
      for (const issue of err instanceof ApiError ? err.issues : []) {
        const field = fieldOfIssue(fieldOf(issue.path), issue.message, draft);
        if (field) placed.push({ field, message: issue.message });
        else unplaced = true;
      }
      markFields(form, placed);
      setError(unplaced ? messageOf(err) : 'Not saved: the server refused the marked fields.');
    } finally {
      setBusy(false);
    }
  }

  async function remove(): Promise<void> {
    try {
      await requestWithEtag<void>('DELETE', url, etag ? { headers: { 'if-match': etag } } : {});
      void message.success(`${path} now inherits everything`);
      onRemoved();
    } catch (err) {
      setError(err instanceof ApiError && err.status === 412 ? 'Not removed: someone changed this record meanwhile. Reload the tab to see it.' : messageOf(err));
    }
  }

  function onValuesChange(changed: Partial<ConfigDraft>): void {
    setDirty(true);
    // "Own classes" starts from what the node gets now, so overriding one parameter is one edit.
    if (changed.classMode === 'own' && (form.getFieldValue('classes') ?? []).length === 0) {
      form.setFieldValue('classes', classDraftsOf(eff.classes));
    }
  }

  const envFrom = eff.environmentFrom && eff.environmentFrom !== path ? `from ${eff.environmentFrom}` : eff.environmentFrom ? 'set here' : "Puppet's default";
  return (
    <Form form={form} name="puppet-own" layout="vertical" initialValues={initial} onValuesChange={onValuesChange} disabled={busy || readOnly}>
      <ReadOnlyNote op="enc.write" what="changing the node's classes, parameters and environment" />
      {conflict && <ConflictAlert conflict={conflict} busy={busy} onTheirs={() => onChanged(conflict.latest, conflict.etag)} onMine={() => void save(conflict.etag ?? '')} />}
      {error && <Alert type="error" showIcon title={error} closable onClose={() => setError(undefined)} style={{ marginBottom: 12 }} />}
      <Form.Item name="classMode" label="Classes" style={{ marginBottom: 8 }}>
        <Radio.Group optionType="button" options={MODES} />
      </Form.Item>
      <div style={{ marginBottom: 16 }}>
        {mode === 'inherit' && (
          <Typography.Text type="secondary">
            Machines here get the class set of the nearest ancestor that sets one
            {(view.own?.classes ?? null) === null && eff.classesFrom && eff.classesFrom !== path ? (
              <>
                {' '}— now <NodeLink path={eff.classesFrom} />
              </>
            ) : null}
            .
          </Typography.Text>
        )}
        {mode === 'none' && <Typography.Text type="secondary">Machines here get no classes, whatever the ancestors set.</Typography.Text>}
        {mode === 'own' && <ClassesEditor name="classes" catalog={catalog} disabled={readOnly} emptyHint="Pick the classes this node's machines run; they replace the ancestors' set." />}
      </div>
      <Form.Item label="Parameters" tooltip="Top-scope variables. They merge with the ancestors' parameters, the nearer node winning per name; canopy_* names are set by Canopy." style={{ marginBottom: 16 }}>
        <ParamRows name={['parameters']} path={['parameters']} label="Parameter" suggestions={null} used={[]} addText="Add parameter" disabled={readOnly} />
      </Form.Item>
      <Form.Item name="environment" label="Environment" tooltip="Empty: inherited from the nearest ancestor that sets one.">
        <Input allowClear placeholder={`inherit (now ${eff.environment}, ${envFrom})`} style={{ maxWidth: 360 }} />
      </Form.Item>
      {!readOnly && (
        <Space wrap>
          <Button type="primary" icon={<SaveOutlined />} loading={busy} disabled={!dirty} onClick={() => void save(etag)}>
            Save
          </Button>
          <Button icon={<UndoOutlined />} disabled={!dirty} onClick={() => form.resetFields()}>
            Discard changes
          </Button>
          {view.own && (
            <Popconfirm title="Remove this node's own record?" description="Classes, parameters and environment will all be inherited." okText="Remove" okButtonProps={{ danger: true }} onConfirm={() => remove()}>
              <Button danger>Remove own record</Button>
            </Popconfirm>
          )}
        </Space>
      )}
    </Form>
  );
}

function ConflictAlert({ conflict, busy, onTheirs, onMine }: { conflict: Conflict; busy: boolean; onTheirs: () => void; onMine: () => void }) {
  const own = conflict.latest.own;
  const who = own ? `${own.updatedBy} changed it at ${new Date(own.updatedAt).toLocaleString()}` : 'someone removed its own record';
  return (
    <Alert
      type="warning"
      showIcon
      data-testid="config-conflict"
      style={{ marginBottom: 12 }}
      title="Not saved: this node's configuration changed after you opened it"
      description={`${who}. Your edits are still in the form: keep theirs, or save yours over it.`}
      action={
        <Space orientation="vertical">
          <Button size="small" onClick={onTheirs} disabled={busy}>
            Load their version
          </Button>
          <Button size="small" danger onClick={onMine} loading={busy}>
            Save mine over it
          </Button>
        </Space>
      }
    />
  );
}
