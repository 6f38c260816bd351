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
        Track<UserRow>("users", "id", null, (db, c) => db.GetTable<UserRow>().Where(r => r.Id == c.Key1)),
        Track<WalletRow>("wallets", "id", null, (db, c) => db.GetTable<WalletRow>().Where(r => r.Id == c.Key1)),
        Track<CredentialRow>("credentials", "id", null, (db, c) => db.GetTable<CredentialRow>().Where(r => r.Id == c.Key1)),
        Track<SharedCredentialRow>("shared_credentials", "original_id", "copy_id",
            (db, c) => db.GetTable<SharedCredentialRow>().Where(r => r.OriginalId == c.Key1 && r.CopyId == c.Key2)),
        Track<UserAttributeRow>("user_attributes", "id", null, (db, c) => db.GetTable<UserAttributeRow>().Where(r => r.Id == c.Key1)),
        Track<SharedUserAttributeRow>("shared_user_attributes", "original_id", "copy_id",
            (db, c) => db.GetTable<SharedUserAttributeRow>().Where(r => r.OriginalId == c.Key1 && r.CopyId == c.Key2)),
        Track<InserterRow>("inserters", "id", null, (db, c) => db.GetTable<InserterRow>().Where(r => r.Id == c.Key1)),
        new Tracked("delegates", null, null, "address", (db, c) => Encode(db.GetTable<DelegateRow>().Where(r => r.Address == c.KeyText))),
        Track<ConsumedWriteGrantRow>("consumed_write_grants", "id", null, (db, c) => db.GetTable<ConsumedWriteGrantRow>().Where(r => r.Id == c.Key1)),
        Track<AccessGrantRow>("access_grants", "id", null, (db, c) => db.GetTable<AccessGrantRow>().Where(r => r.Id == c.Key1)),
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
        var changes = db.GetTable<RowChangeRow>().ToList();
        if (changes.Count == 0)
        {
            return null;
        }

        db.GetTable<RowChangeRow>().Delete();
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
            var row = tracked.Read(db, change);
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

    private static Tracked Track<T>(string table, string key1, string? key2, Func<DataConnection, RowChangeRow, IQueryable<T>> query) =>
        new(table, key1, key2, null, (db, change) => Encode(query(db, change)));

    private static byte[] KeyBytes(RowChangeRow change)
    {
        var writer = new RowWriter();
        writer.Value(change.Key1);
        writer.Value(change.Key2);
        writer.Value(change.KeyText);
        return writer.TakeAll();
    }

    private static byte[]? Encode<T>(IQueryable<T> rows)
    {
        var row = rows.FirstOrDefault();
        if (row is null)
        {
            return null;
        }

        var writer = new RowWriter();
        foreach (var property in Columns<T>.Ordered)
        {
            writer.Value(property.GetValue(row));
        }

        return writer.TakeAll();
    }

    private sealed record Tracked(string Table, string? Key1, string? Key2, string? KeyText, Func<DataConnection, RowChangeRow, byte[]?> Read);

    private static class Columns<T>
    {
        public static readonly PropertyInfo[] Ordered = [.. typeof(T).GetProperties()
            .Select(p => (Property: p, Name: p.GetCustomAttribute<ColumnAttribute>()?.Name))
            .Where(p => p.Name is not null)
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .Select(p => p.Property)];
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
