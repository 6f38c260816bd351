using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
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
public static class ChangedRows
{
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
    ];

    private static readonly Dictionary<string, Tracked> ByName = Tables.ToDictionary(t => t.Table, StringComparer.Ordinal);

    /// <summary>The triggers and their table, for the state migration that introduces them.</summary>
    public static List<string> Migration(SqlDialect dialect)
    {
        var uuid = dialect == SqlDialect.PostgreSql ? "uuid" : "BLOB";
        List<string> statements = [$"CREATE TABLE row_changes (table_name TEXT NOT NULL, key1 {uuid}, key2 {uuid}, key_text TEXT)"];
        foreach (var table in Tables)
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
    /// a deletion mark; then forgets them. Null when nothing changed.
    /// </summary>
    public static byte[]? DigestAndClear(DataConnection db)
    {
        ArgumentNullException.ThrowIfNull(db);
        var statements = PreparedStatements.Of(db);
        var changes = new List<RowChangeRow>();
        using (var reader = statements.Read("SELECT table_name, key1, key2, key_text FROM row_changes"))
        {
            while (reader.Read())
            {
                changes.Add(new RowChangeRow
                {
                    TableName = reader.GetString(0),
                    Key1 = reader.IsDBNull(1) ? null : reader.GetGuid(1),
                    Key2 = reader.IsDBNull(2) ? null : reader.GetGuid(2),
                    KeyText = reader.IsDBNull(3) ? null : reader.GetString(3),
                });
            }
        }

        if (changes.Count == 0)
        {
            return null;
        }

        statements.Execute("DELETE FROM row_changes");
        var distinct = changes
            .Select(c => (Change: c, Key: KeyBytes(c)))
            .DistinctBy(c => (c.Change.TableName, Convert.ToHexString(c.Key)))
            .OrderBy(c => c.Change.TableName, StringComparer.Ordinal)
            .ThenBy(c => c.Key, ByteOrder.Instance);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var writer = new RowWriter();
        foreach (var (change, key) in distinct)
        {
            var tracked = ByName.TryGetValue(change.TableName, out var t) ? t : throw new InvalidOperationException($"untracked table {change.TableName}");
            writer.Text(change.TableName);
            writer.Bytes(key);
            var row = tracked.Read(statements, change);
            writer.Bool(row is not null);
            if (row is not null)
            {
                writer.Bytes(row);
            }

            hash.AppendData(writer.TakeAll());
        }

        return hash.GetHashAndReset();
    }

    private static string Column(string row, string? column) => column is null ? "NULL" : $"{row}.{column}";

    private static Tracked Track<T>(string table, string? key1 = null, string? key2 = null, string? keyText = null)
    {
        var columns = Columns<T>.Ordered;
        var where = key2 is not null ? $"{key1} = @p0 AND {key2} = @p1" : $"{key1 ?? keyText} = @p0";
        var sql = $"SELECT {string.Join(", ", columns.Select(c => c.Name))} FROM {table} WHERE {where}";
        return new Tracked(table, key1, key2, keyText, sql, [.. columns.Select(c => c.Kind)]);
    }

    private static byte[] KeyBytes(RowChangeRow change)
    {
        var writer = new RowWriter();
        writer.Value(change.Key1);
        writer.Value(change.Key2);
        writer.Value(change.KeyText);
        return writer.TakeAll();
    }

    /// <summary>A tracked table: its key columns and the statement that reads one row back, columns in name order.</summary>
    private sealed record Tracked(string Table, string? Key1, string? Key2, string? KeyText, string ReadSql, ColumnKind[] Kinds)
    {
        /// <summary>The row's canonical encoding, or null when the transaction deleted it.</summary>
        public byte[]? Read(PreparedStatements statements, RowChangeRow change)
        {
            using var reader = Key2 is not null ? statements.Read(ReadSql, change.Key1, change.Key2)
                : statements.Read(ReadSql, Key1 is not null ? change.Key1 : change.KeyText);
            if (!reader.Read())
            {
                return null;
            }

            var writer = new RowWriter();
            for (var i = 0; i < Kinds.Length; i++)
            {
                // The values are those the row's mapped properties held when linq2db read it back, so the encoding,
                // and the app hash of every stored block, stay what they were.
                writer.Value(reader.IsDBNull(i) ? null : Kinds[i] switch
                {
                    ColumnKind.Uuid => reader.GetGuid(i),
                    ColumnKind.Text => reader.GetString(i),
                    ColumnKind.Integer => Convert.ToInt64(reader.GetValue(i), CultureInfo.InvariantCulture),
                    _ => reader.GetBoolean(i),
                });
            }

            return writer.TakeAll();
        }
    }

    private enum ColumnKind
    {
        Uuid,
        Text,
        Integer,
        Boolean,
    }

    private static class Columns<T>
    {
        public static readonly (string Name, ColumnKind Kind)[] Ordered = [.. typeof(T).GetProperties()
            .Select(p => (Name: p.GetCustomAttribute<ColumnAttribute>()?.Name, Type: Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType))
            .Where(p => p.Name is not null)
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .Select(p => (p.Name!, KindOf(p.Type)))];

        private static ColumnKind KindOf(Type type) =>
            type == typeof(Guid) ? ColumnKind.Uuid
            : type == typeof(string) ? ColumnKind.Text
            : type == typeof(long) || type == typeof(int) ? ColumnKind.Integer
            : type == typeof(bool) ? ColumnKind.Boolean
            : throw new InvalidOperationException($"no canonical encoding for a {type.Name} column of {typeof(T).Name}");
    }

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }

    /// <summary>Tagged, length-prefixed values: no two different rows encode alike.</summary>
    private sealed class RowWriter
    {
        // An ArrayBufferWriter holds no unmanaged resource, unlike a MemoryStream as far as the analyzers know.
        private readonly ArrayBufferWriter<byte> _buffer = new();

        public void Value(object? value)
        {
            switch (value)
            {
                case null:
                    Tag(0);
                    break;
                case Guid guid:
                    Tag(1);
                    Span<byte> bytes = stackalloc byte[16];
                    guid.TryWriteBytes(bytes, bigEndian: true, out _);
                    _buffer.Write(bytes);
                    break;
                case string text:
                    Tag(2);
                    Text(text);
                    break;
                case long or int:
                    Tag(3);
                    Span<byte> number = stackalloc byte[8];
                    BinaryPrimitives.WriteInt64BigEndian(number, Convert.ToInt64(value, CultureInfo.InvariantCulture));
                    _buffer.Write(number);
                    break;
                case bool flag:
                    Tag(4);
                    Bool(flag);
                    break;
                default:
                    throw new InvalidOperationException($"no canonical encoding for a {value.GetType().Name} column");
            }
        }

        public void Text(string text) => Bytes(Encoding.UTF8.GetBytes(text));

        public void Bool(bool flag) => Tag(flag ? 1 : 0);

        public void Bytes(byte[] bytes)
        {
            Span<byte> length = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
            _buffer.Write(length);
            _buffer.Write(bytes);
        }

        public byte[] TakeAll()
        {
            var bytes = _buffer.WrittenSpan.ToArray();
            _buffer.ResetWrittenCount();
            return bytes;
        }

        private void Tag(int tag) => _buffer.Write([(byte)tag]);
    }
}
