using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;
using IdOS.Akka.Engine.Storage.Governance;
using IdOS.Akka.Engine.Storage.Migrations;
using IdOS.Akka.Engine.Storage.Schema;
using LinqToDB;
using LinqToDB.Data;
using LinqToDB.Mapping;

namespace IdOS.Akka.Engine.Storage.Execution;

/// <summary>A row some statement inserted, updated or deleted, by table and primary key, as triggers record it.</summary>
[Table("row_changes")]
public sealed class RowChangeRow
{
    [Column("table_name"), NotNull] public string TableName { get; set; } = "";

    [Column("key1"), Nullable] public Guid? Key1 { get; set; }

    [Column("key2"), Nullable] public Guid? Key2 { get; set; }

    [Column("key_text"), Nullable] public string? KeyText { get; set; }
}

/// <summary>
/// What a transaction changed, for the app hash: triggers on every idOS table (cascades included) record the keys
/// of the rows touched, and after the transaction each of those rows is read back and encoded canonically (columns
/// by name, UUIDs as 16 big-endian bytes, text as UTF-8, integers as 8 bytes) or marked deleted. The encoding does
/// not depend on the database, so SQLite and PostgreSQL validators agree on it.
/// </summary>
public sealed class ChangedRows
{
    private readonly List<Change> _changes = [];
    private readonly ArrayBufferWriter<byte> _keys = new();
    private readonly ArrayBufferWriter<byte> _entries = new();
    private readonly ArrayBufferWriter<byte> _row = new();
    private readonly ChangeOrder _order;

    public ChangedRows() => _order = new ChangeOrder(this);

    private static readonly Tracked[] Tables =
    [
        Track<UserRow>("users", "id"),
        Track<WalletRow>("wallets", "id"),
        Track<CredentialRow>("credentials", "id"),
        Track<SharedCredentialRow>("shared_credentials", "original_id", "copy_id"),
        Track<UserAttributeRow>("user_attributes", "id"),
        Track<SharedUserAttributeRow>("shared_user_attributes", "original_id", "copy_id"),
        Track<InserterRow>("inserters", "id"),
        Track<DelegateRow>("delegates", keyText: "address"),
        Track<ConsumedWriteGrantRow>("consumed_write_grants", "id"),
        Track<AccessGrantRow>("access_grants", "id"),
        Track<ValidatorEpochRow>(ValidatorTables.Epochs, keyText: "id"),
        Track<ValidatorRequestRow>(ValidatorTables.Requests, keyText: "id"),
    ];

    /// <summary>The tables the migration that introduced tracking covered; later migrations track theirs themselves.</summary>
    private const int TrackedByFirstMigration = 10;

    private static readonly Dictionary<string, Tracked> ByName = Tables.ToDictionary(t => t.Table, StringComparer.Ordinal);

    /// <summary>The triggers and their table, for the state migration that introduces them.</summary>
    public static List<string> Migration(SqlDialect dialect)
    {
        var uuid = dialect == SqlDialect.PostgreSql ? "uuid" : "BLOB";
        List<string> statements = [$"CREATE TABLE row_changes (table_name TEXT NOT NULL, key1 {uuid}, key2 {uuid}, key_text TEXT)"];
        statements.AddRange(Triggers(dialect, Tables[..TrackedByFirstMigration]));
        return statements;
    }

    /// <summary>The triggers that track the tables named, for the migration that creates them.</summary>
    public static List<string> TriggersFor(SqlDialect dialect, params string[] tables) =>
        Triggers(dialect, [.. tables.Select(t => ByName[t])]);

    private static List<string> Triggers(SqlDialect dialect, IEnumerable<Tracked> tables)
    {
        List<string> statements = [];
        foreach (var table in tables)
        {
            string Values(string row) => string.Create(CultureInfo.InvariantCulture,
                $"INSERT INTO row_changes (table_name, key1, key2, key_text) VALUES ('{table.Table}', {Column(row, table.Key1)}, {Column(row, table.Key2)}, {Column(row, table.KeyText)});");
            if (dialect == SqlDialect.Sqlite)
            {
                statements.Add($"CREATE TRIGGER {table.Table}_track_insert AFTER INSERT ON {table.Table} BEGIN {Values("NEW")} END");
                statements.Add($"CREATE TRIGGER {table.Table}_track_update AFTER UPDATE ON {table.Table} BEGIN {Values("OLD")} {Values("NEW")} END");
                statements.Add($"CREATE TRIGGER {table.Table}_track_delete AFTER DELETE ON {table.Table} BEGIN {Values("OLD")} END");
            }
            else
            {
                statements.Add($"""
                    CREATE FUNCTION {table.Table}_track() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                      IF TG_OP <> 'INSERT' THEN {Values("OLD")} END IF;
                      IF TG_OP <> 'DELETE' THEN {Values("NEW")} END IF;
                      RETURN NULL;
                    END $$
                    """);
                statements.Add($"CREATE TRIGGER {table.Table}_track AFTER INSERT OR UPDATE OR DELETE ON {table.Table} FOR EACH ROW EXECUTE FUNCTION {table.Table}_track()");
            }
        }

        return statements;
    }

    /// <summary>
    /// SHA-256 over every row the current transaction changed, in (table, key) order, each with its content now or
    /// a deletion mark; then forgets them. Null when nothing changed. One instance serves one executor and keeps its
    /// buffers between transactions: this runs after every transaction of every block.
    /// </summary>
    public byte[]? DigestAndClear(DataConnection db)
    {
        ArgumentNullException.ThrowIfNull(db);
        var statements = PreparedStatements.Of(db);
        _changes.Clear();
        _keys.ResetWrittenCount();
        using (var reader = statements.Read("SELECT table_name, key1, key2, key_text FROM row_changes"))
        {
            while (reader.Read())
            {
                var change = new RowChangeRow
                {
                    TableName = reader.GetString(0),
                    Key1 = reader.IsDBNull(1) ? null : reader.GetGuid(1),
                    Key2 = reader.IsDBNull(2) ? null : reader.GetGuid(2),
                    KeyText = reader.IsDBNull(3) ? null : reader.GetString(3),
                };
                var start = _keys.WrittenCount;
                RowWriter.Value(_keys, change.Key1);
                RowWriter.Value(_keys, change.Key2);
                RowWriter.Value(_keys, change.KeyText);
                _changes.Add(new Change(change, start, _keys.WrittenCount - start));
            }
        }

        if (_changes.Count == 0)
        {
            return null;
        }

        statements.Execute("DELETE FROM row_changes");
        _changes.Sort(_order);
        _entries.ResetWrittenCount();
        Change? previous = null;
        foreach (var change in _changes)
        {
            if (previous is { } last && _order.Compare(last, change) == 0)
            {
                continue;
            }

            previous = change;
            var tracked = ByName.TryGetValue(change.Row.TableName, out var t) ? t : throw new InvalidOperationException($"untracked table {change.Row.TableName}");
            RowWriter.Text(_entries, change.Row.TableName);
            RowWriter.Bytes(_entries, KeyOf(change));
            _row.ResetWrittenCount();
            var exists = tracked.Read(statements, change.Row, _row);
            RowWriter.Bool(_entries, exists);
            if (exists)
            {
                RowWriter.Bytes(_entries, _row.WrittenSpan);
            }
        }

        return SHA256.HashData(_entries.WrittenSpan);
    }

    /// <summary>
    /// Every row of every tracked table as the app hash encodes a changed one, tables by name and rows by their key's
    /// encoding (bytewise, so both databases give the same order): what a snapshot of the state holds. Only the keys
    /// are held in memory at once; each row is read back by its key.
    /// </summary>
    internal static void ForEachRow(DataConnection db, RowVisitor visit)
    {
        var statements = PreparedStatements.Of(db);
        var row = new ArrayBufferWriter<byte>();
        var key = new ArrayBufferWriter<byte>();
        foreach (var table in Tables.OrderBy(t => t.Table, StringComparer.Ordinal))
        {
            var keys = new List<(byte[] Key, RowChangeRow Change)>();
            using (var reader = statements.Read(table.KeysSql))
            {
                while (reader.Read())
                {
                    var change = new RowChangeRow { TableName = table.Table };
                    var column = 0;
                    if (table.Key1 is not null)
                    {
                        change.Key1 = reader.GetGuid(column++);
                    }

                    if (table.Key2 is not null)
                    {
                        change.Key2 = reader.GetGuid(column++);
                    }

                    if (table.KeyText is not null)
                    {
                        change.KeyText = reader.GetString(column);
                    }

                    key.ResetWrittenCount();
                    RowWriter.Value(key, change.Key1);
                    RowWriter.Value(key, change.Key2);
                    RowWriter.Value(key, change.KeyText);
                    keys.Add((key.WrittenSpan.ToArray(), change));
                }
            }

            keys.Sort((x, y) => x.Key.AsSpan().SequenceCompareTo(y.Key));
            foreach (var (rowKey, change) in keys)
            {
                row.ResetWrittenCount();
                if (!table.Read(statements, change, row))
                {
                    throw new InvalidOperationException($"A row of {table.Table} went missing while the state was read in one transaction.");
                }

                visit(table.Table, rowKey, row.WrittenSpan);
            }
        }
    }

    /// <summary>The tracked tables in an order where each comes after every table its foreign keys name.</summary>
    internal static IEnumerable<string> TablesInDependencyOrder => Tables.Select(t => t.Table);

    internal static bool IsTracked(string table) => ByName.ContainsKey(table);

    /// <summary>
    /// Inserts a row of a tracked table from its canonical encoding (<see cref="ForEachRow"/>'s): the way back for a
    /// snapshot. A row that does not decode to the table's columns is refused with <see cref="FormatException"/>.
    /// </summary>
    internal static void InsertRow(PreparedStatements statements, string table, ReadOnlySpan<byte> row)
    {
        var tracked = ByName.TryGetValue(table, out var t) ? t : throw new FormatException($"'{table}' is not a table of the idOS state.");
        var values = new object?[tracked.Kinds.Length];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = RowReader.Value(ref row, tracked.Kinds[i], tracked.Types[i]);
        }

        if (!row.IsEmpty)
        {
            throw new FormatException($"A row of {table} has {row.Length} bytes after its {values.Length} columns.");
        }

        statements.Execute(tracked.InsertSql, values);
    }

    /// <summary>One row of <see cref="ForEachRow"/>: its table, its key's encoding and its content's.</summary>
    internal delegate void RowVisitor(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> row);

    private ReadOnlySpan<byte> KeyOf(Change change) => _keys.WrittenSpan.Slice(change.KeyStart, change.KeyLength);

    /// <summary>A recorded change with its key's canonical encoding, by place in the shared key buffer.</summary>
    private readonly record struct Change(RowChangeRow Row, int KeyStart, int KeyLength);

    /// <summary>(table, key) order: table names ordinally, then the keys' encodings bytewise.</summary>
    private sealed class ChangeOrder(ChangedRows owner) : IComparer<Change>
    {
        public int Compare(Change x, Change y)
        {
            var byTable = string.CompareOrdinal(x.Row.TableName, y.Row.TableName);
            return byTable != 0 ? byTable : owner.KeyOf(x).SequenceCompareTo(owner.KeyOf(y));
        }
    }

    private static string Column(string row, string? column) => column is null ? "NULL" : $"{row}.{column}";

    private static Tracked Track<T>(string table, string? key1 = null, string? key2 = null, string? keyText = null)
    {
        var columns = Columns<T>.Ordered;
        var where = key2 is not null ? $"{key1} = @p0 AND {key2} = @p1" : $"{key1 ?? keyText} = @p0";
        var sql = $"SELECT {string.Join(", ", columns.Select(c => c.Name))} FROM {table} WHERE {where}";
        var keysSql = $"SELECT {string.Join(", ", new[] { key1, key2, keyText }.OfType<string>())} FROM {table}";
        var insertSql = $"INSERT INTO {table} ({string.Join(", ", columns.Select(c => c.Name))}) VALUES ({string.Join(", ", columns.Select((_, i) => PreparedStatements.ParameterName(i)))})";
        return new Tracked(table, key1, key2, keyText, sql, keysSql, insertSql, [.. columns.Select(c => c.Kind)], [.. columns.Select(c => c.Type)]);
    }

    /// <summary>
    /// A tracked table: its key columns, the statement that reads one row back (columns in name order), the one that
    /// lists every key and the one that inserts a row (columns in the same order).
    /// </summary>
    private sealed record Tracked(string Table, string? Key1, string? Key2, string? KeyText, string ReadSql, string KeysSql, string InsertSql,
        ColumnKind[] Kinds, Type[] Types)
    {
        /// <summary>Writes the row's canonical encoding to <paramref name="row"/>; false when the transaction deleted it.</summary>
        public bool Read(PreparedStatements statements, RowChangeRow change, ArrayBufferWriter<byte> row)
        {
            using var reader = Key2 is not null ? statements.Read(ReadSql, change.Key1, change.Key2)
                : statements.Read(ReadSql, Key1 is not null ? change.Key1 : change.KeyText);
            if (!reader.Read())
            {
                return false;
            }

            for (var i = 0; i < Kinds.Length; i++)
            {
                // The values are those the row's mapped properties held when linq2db read it back, so the encoding,
                // and the app hash of every stored block, stay what they were.
                if (reader.IsDBNull(i))
                {
                    RowWriter.Null(row);
                    continue;
                }

                switch (Kinds[i])
                {
                    case ColumnKind.Uuid:
                        RowWriter.Value(row, reader.GetGuid(i));
                        break;
                    case ColumnKind.Text when reader is SqliteRowReader sqlite && sqlite.GetUtf8(i) is var utf8 && Utf8.IsValid(utf8):
                        // The bytes a string of this text encodes to, read without the string (a credential's is kilobytes).
                        RowWriter.Utf8Value(row, utf8);
                        break;
                    case ColumnKind.Text:
                        RowWriter.Value(row, reader.GetString(i));
                        break;
                    case ColumnKind.Integer:
                        RowWriter.Value(row, Convert.ToInt64(reader.GetValue(i), CultureInfo.InvariantCulture));
                        break;
                    default:
                        RowWriter.Value(row, reader.GetBoolean(i));
                        break;
                }
            }

            return true;
        }
    }

    internal enum ColumnKind
    {
        Uuid,
        Text,
        Integer,
        Boolean,
    }

    private static class Columns<T>
    {
        public static readonly (string Name, ColumnKind Kind, Type Type)[] Ordered = [.. typeof(T).GetProperties()
            .Select(p => (Name: p.GetCustomAttribute<ColumnAttribute>()?.Name, Type: Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType))
            .Where(p => p.Name is not null)
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .Select(p => (p.Name!, KindOf(p.Type), p.Type))];

        private static ColumnKind KindOf(Type type) =>
            type == typeof(Guid) ? ColumnKind.Uuid
            : type == typeof(string) ? ColumnKind.Text
            : type == typeof(long) || type == typeof(int) ? ColumnKind.Integer
            : type == typeof(bool) ? ColumnKind.Boolean
            : throw new InvalidOperationException($"no canonical encoding for a {type.Name} column of {typeof(T).Name}");
    }

    /// <summary>Tagged, length-prefixed values: no two different rows encode alike.</summary>
    internal static class RowWriter
    {
        private const byte NullTag = 0;
        private const byte Uuid = 1;
        private const byte String = 2;
        private const byte Integer = 3;
        private const byte Boolean = 4;

        public static void Null(ArrayBufferWriter<byte> buffer) => Tag(buffer, NullTag);

        public static void Value(ArrayBufferWriter<byte> buffer, Guid? value)
        {
            if (value is not { } guid)
            {
                Tag(buffer, NullTag);
                return;
            }

            Tag(buffer, Uuid);
            guid.TryWriteBytes(buffer.GetSpan(16), bigEndian: true, out _);
            buffer.Advance(16);
        }

        public static void Value(ArrayBufferWriter<byte> buffer, string? text)
        {
            if (text is null)
            {
                Tag(buffer, NullTag);
                return;
            }

            Tag(buffer, String);
            Text(buffer, text);
        }

        public static void Utf8Value(ArrayBufferWriter<byte> buffer, ReadOnlySpan<byte> utf8)
        {
            Tag(buffer, String);
            Bytes(buffer, utf8);
        }

        public static void Value(ArrayBufferWriter<byte> buffer, long number)
        {
            Tag(buffer, Integer);
            BinaryPrimitives.WriteInt64BigEndian(buffer.GetSpan(8), number);
            buffer.Advance(8);
        }

        public static void Value(ArrayBufferWriter<byte> buffer, bool flag)
        {
            Tag(buffer, Boolean);
            Bool(buffer, flag);
        }

        public static void Text(ArrayBufferWriter<byte> buffer, string text)
        {
            var length = Encoding.UTF8.GetByteCount(text);
            Length(buffer, length);
            buffer.Advance(Encoding.UTF8.GetBytes(text, buffer.GetSpan(length)));
        }

        public static void Bool(ArrayBufferWriter<byte> buffer, bool flag) => Tag(buffer, flag ? (byte)1 : (byte)0);

        public static void Bytes(ArrayBufferWriter<byte> buffer, ReadOnlySpan<byte> bytes)
        {
            Length(buffer, bytes.Length);
            buffer.Write(bytes);
        }

        private static void Length(ArrayBufferWriter<byte> buffer, int length)
        {
            BinaryPrimitives.WriteInt32BigEndian(buffer.GetSpan(4), length);
            buffer.Advance(4);
        }

        private static void Tag(ArrayBufferWriter<byte> buffer, byte tag)
        {
            buffer.GetSpan(1)[0] = tag;
            buffer.Advance(1);
        }
    }

    /// <summary>
    /// The way back from <see cref="RowWriter"/>'s tagged values, for rows a snapshot carries: every length is checked
    /// against what is left before it is read, and a value must carry its column's tag (or the null tag).
    /// </summary>
    internal static class RowReader
    {
        public static object? Value(ref ReadOnlySpan<byte> row, ColumnKind kind, Type type)
        {
            var tag = Take(ref row, 1)[0];
            switch (tag, kind)
            {
                case (0, _):
                    return null;
                case (1, ColumnKind.Uuid):
                    return new Guid(Take(ref row, 16), bigEndian: true);
                case (2, ColumnKind.Text):
                    return Utf8Text(ref row);
                case (3, ColumnKind.Integer):
                    var number = BinaryPrimitives.ReadInt64BigEndian(Take(ref row, 8));
                    return type != typeof(int) ? number
                        : number is >= int.MinValue and <= int.MaxValue ? (int)number
                        : throw new FormatException($"{number} does not fit a 32-bit column.");
                case (4, ColumnKind.Boolean):
                    return Take(ref row, 1)[0] switch
                    {
                        0 => false,
                        1 => true,
                        var other => throw new FormatException($"{other} is not a boolean."),
                    };
                default:
                    throw new FormatException($"A value tagged {tag} where a {kind} column is.");
            }
        }

        /// <summary>A length-prefixed UTF-8 string (<see cref="RowWriter.Text"/>), which must be valid UTF-8.</summary>
        public static string Utf8Text(ref ReadOnlySpan<byte> input)
        {
            var bytes = LengthPrefixed(ref input);
            return Utf8.IsValid(bytes) ? Encoding.UTF8.GetString(bytes) : throw new FormatException("Text that is not UTF-8.");
        }

        /// <summary>Length-prefixed bytes (<see cref="RowWriter.Bytes"/>), a slice of the input.</summary>
        public static ReadOnlySpan<byte> LengthPrefixed(ref ReadOnlySpan<byte> input)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(Take(ref input, 4));
            return length < 0 ? throw new FormatException($"A negative length, {length}.") : Take(ref input, length);
        }

        private static ReadOnlySpan<byte> Take(ref ReadOnlySpan<byte> input, int count)
        {
            if (input.Length < count)
            {
                throw new FormatException($"{count} bytes expected where {input.Length} are left.");
            }

            var taken = input[..count];
            input = input[count..];
            return taken;
        }
    }
}
