/**
 * Key/value rows for Puppet parameters inside an antd Form. Each row says explicitly how its value
 * is read — as a string, or as JSON (so `8080` can be a number and `["a","b"]` an array).
 */
import { AutoComplete, Button, Form, Input, Select, Tooltip, Typography } from 'antd';
import { MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import type { ParamRow, ValueKind } from './model.ts';

const KINDS: { value: ValueKind; label: string; title: string }[] = [
  { value: 'string', label: 'String', title: 'The text exactly as typed' },
  { value: 'json', label: 'JSON', title: 'Parsed as JSON: 8080, true, null, ["a","b"], {"k":"v"}, "quoted text"' },
];

const NEW_ROW: ParamRow = { name: '', kind: 'string', text: '' };

export interface ParamRowsProps {
  /** Where the rows sit in the form, e.g. `['parameters']` or `[0, 'params']` inside a Form.List. */
  name: (string | number)[];
  /** The same place from the form's root (differs from `name` inside a Form.List). */
  path: (string | number)[];
  /** Shown in the fields' accessible names: "nginx parameter 1 name". */
  label: string;
  /** Parameter names to suggest (the catalog's list for a class); null: no suggestions. */
  suggestions: readonly string[] | null;
  /** The names already used, so they are not suggested twice. */
  used: readonly string[];
  addText: string;
  disabled?: boolean;
}

/** Editable parameter rows: name (with suggestions), value type, value. */
export function ParamRows({ name, path, label, suggestions, used, addText, disabled }: ParamRowsProps) {
  const options = (suggestions ?? []).filter((s) => !used.includes(s)).map((s) => ({ value: s }));
  return (
    <Form.List name={name}>
      {(rows, { add, remove }) => (
        <div>
          {rows.map((row, n) => (
            <div key={row.key} style={{ display: 'flex', gap: 8, alignItems: 'flex-start' }}>
              <Form.Item name={[row.name, 'name']} style={{ width: 200, flex: 'none', marginBottom: 8 }}>
                <AutoComplete
                  aria-label={`${label} ${n + 1} name`}
                  placeholder="name"
                  options={options}
                  disabled={disabled}
                  showSearch={{ filterOption: (input, o) => String(o?.value ?? '').includes(input) }}
                />
              </Form.Item>
              <Form.Item name={[row.name, 'kind']} style={{ width: 92, flex: 'none', marginBottom: 8 }}>
                <Select aria-label={`${label} ${n + 1} type`} options={KINDS.map((k) => ({ value: k.value, label: <Tooltip title={k.title}>{k.label}</Tooltip> }))} disabled={disabled} />
              </Form.Item>
              <Form.Item noStyle shouldUpdate>
                {({ getFieldValue }) => {
                  const json = getFieldValue([...path, row.name, 'kind']) === 'json';
                  return (
                    <Form.Item name={[row.name, 'text']} style={{ flex: 1, minWidth: 120, marginBottom: 8 }}>
                      <Input.TextArea
                        aria-label={`${label} ${n + 1} value`}
                        autoSize={{ minRows: 1, maxRows: 6 }}
                        placeholder={json ? '8080, true, ["a","b"], {"k":"v"}' : 'text'}
                        style={json ? { fontFamily: 'monospace' } : undefined}
                        disabled={disabled}
                      />
                    </Form.Item>
                  );
                }}
              </Form.Item>
              {!disabled && (
                <Button type="text" aria-label={`Remove ${label.toLowerCase()} ${n + 1}`} icon={<MinusCircleOutlined />} onClick={() => remove(row.name)} />
              )}
            </div>
          ))}
          {rows.length === 0 && disabled && <Typography.Text type="secondary">none</Typography.Text>}
          {!disabled && (
            <Button size="small" type="dashed" icon={<PlusOutlined />} onClick={() => add({ ...NEW_ROW })}>
              {addText}
            </Button>
          )}
        </div>
      )}
    </Form.List>
  );
}

