/**
 * A set of Puppet classes with their parameters, inside an antd Form: classes are picked from the
 * catalog with a searchable Select; each class's parameter names are suggested from the catalog
 * when it lists them.
 */
import { Button, Form, Select, Space, Tag, Tooltip, Typography } from 'antd';
import { DeleteOutlined, WarningOutlined } from '@ant-design/icons';
import type { CatalogClass, ClassDraft } from './model.ts';
import { ParamRows } from './ParamRows.tsx';

export interface ClassesEditorProps {
  /** Where the class list sits in the form. */
  name: string;
  catalog: readonly CatalogClass[];
  disabled?: boolean;
  /** Classes to offer first when the list is empty, e.g. the inherited set. */
  emptyHint?: string;
}

/** The classes of one record (a node's own, or the default set). */
export function ClassesEditor({ name, catalog, disabled, emptyHint }: ClassesEditorProps) {
  const form = Form.useFormInstance();
  const drafts = (Form.useWatch([name], form) as (ClassDraft | undefined)[] | undefined) ?? [];
  const chosen = new Set(drafts.map((d) => d?.name));
  const known = new Map(catalog.map((c) => [c.name, c.parameters]));
  const offer = catalog.filter((c) => !chosen.has(c.name)).map((c) => ({ value: c.name, label: c.name }));

  return (
    <Form.List name={name}>
      {(fields, { add, remove }) => (
        <Space orientation="vertical" size={8} style={{ width: '100%' }}>
          {fields.length === 0 && emptyHint && <Typography.Text type="secondary">{emptyHint}</Typography.Text>}
          {fields.map((field) => {
            const draft = drafts[field.name];
            const className = draft?.name ?? '';
            const params = known.get(className);
            return (
              <div key={field.key} data-testid={`class-${className}`} style={{ border: '1px solid #f0f0f0', borderRadius: 6, padding: '8px 12px', background: '#fcfcfc' }}>
                <div style={{ display: 'flex', alignItems: 'center', justifyContent: 'space-between', marginBottom: 6 }}>
                  <Space size={6}>
                    <Typography.Text strong code>
                      {className}
                    </Typography.Text>
                    {!known.has(className) && (
                      <Tooltip title="The classes catalog no longer lists this class: Puppet would fail to find it">
                        <Tag color="orange" icon={<WarningOutlined />}>
                          not in catalog
                        </Tag>
                      </Tooltip>
                    )}
                    {params === null && <Typography.Text type="secondary" style={{ fontSize: 12 }}>catalog lists no parameters: any name is accepted</Typography.Text>}
                  </Space>
                  {!disabled && <Button size="small" type="text" danger icon={<DeleteOutlined />} aria-label={`Remove class ${className}`} onClick={() => remove(field.name)} />}
                </div>
                {/* Holds the name in the form and carries the server's issues about the class itself. */}
                <Form.Item name={[field.name, 'name']} hidden>
                  <input />
                </Form.Item>
                <Form.Item noStyle shouldUpdate>
                  {({ getFieldError }) => {
                    const errors = getFieldError([name, field.name, 'name']);
                    return errors.length > 0 ? <Typography.Text type="danger">{errors.join('; ')}</Typography.Text> : null;
                  }}
                </Form.Item>
                <ParamRows
                  name={[field.name, 'params']}
                  path={[name, field.name, 'params']}
                  label={`${className} parameter`}
                  suggestions={params ?? null}
                  used={(draft?.params ?? []).map((p) => p?.name ?? '')}
                  addText="Add parameter"
                  disabled={disabled ?? false}
                />
              </div>
            );
          })}
          {!disabled && (
            <Select
              aria-label="Add a class"
              placeholder={catalog.length === 0 ? 'The classes catalog is empty' : offer.length === 0 ? 'Every class in the catalog is already here' : `Add a class (${offer.length} more in the catalog)…`}
              disabled={catalog.length === 0}
              value={null}
              showSearch={{ optionFilterProp: 'label' }}
              options={offer}
              onSelect={(v: string | null) => v && add({ name: v, params: [] })}
              style={{ width: '100%' }}
            />
          )}
        </Space>
      )}
    </Form.List>
  );
}
