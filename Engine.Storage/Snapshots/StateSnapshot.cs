using System.Buffers;
using System.Data;
using System.Security.Cryptography;
using IdOS.Akka.Engine.Storage.Execution;
using IdOS.Akka.Engine.Storage.Schema;
using LinqToDB;
using LinqToDB.Data;

namespace IdOS.Akka.Engine.Storage.Snapshots;

/// <summary>
/// Writes the state at its executed height as chunks of rows in one canonical order and encoding, the same on SQLite
/// and PostgreSQL: the idOS tables by name, each row by its key as the app hash encodes changed rows, then the accounts'
/// nonces. Every validator with the same state writes the same chunks and root. Transaction results stay out: they are
/// each block's history, not state a later transaction reads.
/// </summary>
public static class StateSnapshot
{
    public const int DefaultChunkBytes = 1 << 20;

    internal const string AccountsTable = "accounts";

    /// <summary>
    /// Reads the whole state in one read transaction and hands each chunk, in order, to <paramref name="chunk"/> (its
    /// index and bytes, valid only during the call). A chunk ends at the first row that takes it to
    /// <paramref name="chunkBytes"/> or beyond.
    /// </summary>
    public static SnapshotManifest Write(StateDatabase state, Action<int, ReadOnlyMemory<byte>> chunk, int chunkBytes = DefaultChunkBytes)
    {
        ArgumentNullException.ThrowIfNull(state);
        var db = state.Connection;
        using var transaction = db.BeginTransaction(IsolationLevel.RepeatableRead);
        var height = ExecutedBlocks.Height(db);
        if (height == 0)
        {
            throw new InvalidOperationException("The state has executed no block: there is nothing to take a snapshot of.");
        }

        var manifest = WriteInTransaction(db, height, chunk, chunkBytes);
        transaction.Rollback();
        return manifest;
    }

    /// <summary>
    /// The same, through a connection whose open transaction holds the state at <paramref name="height"/>: execution
    /// takes a snapshot of a block's state before the block's transaction commits.
    /// </summary>
    internal static SnapshotManifest WriteInTransaction(DataConnection db, long height, Action<int, ReadOnlyMemory<byte>> chunk, int chunkBytes)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkBytes, SnapshotManifest.MinChunkBytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chunkBytes, SnapshotManifest.MaxChunkBytes / 2);
        var writer = new ChunkWriter(chunk, chunkBytes);
        ChangedRows.ForEachRow(db, writer.Add);

        var accounts = db.GetTable<AccountRow>().ToList();
        var key = new ArrayBufferWriter<byte>();
        var row = new ArrayBufferWriter<byte>();
        foreach (var account in accounts
            .Select(a => (Key: AccountKey(key, a), Account: a))
            .OrderBy(a => a.Key, ByteOrder.Instance))
        {
            row.ResetWrittenCount();
            ChangedRows.RowWriter.Value(row, account.Account.Nonce);
            writer.Add(AccountsTable, account.Key, row.WrittenSpan);
        }

        writer.Flush();
        return new SnapshotManifest(height, writer.Rows, chunkBytes, writer.Hashes);
    }

    private static byte[] AccountKey(ArrayBufferWriter<byte> key, AccountRow account)
    {
        key.ResetWrittenCount();
        ChangedRows.RowWriter.Bytes(key, account.Identifier);
        ChangedRows.RowWriter.Text(key, account.KeyType);
        return key.WrittenSpan.ToArray();
    }

    /// <summary>Entries (table, key, row; each length-prefixed) cut into chunks, each hashed as it is handed on.</summary>
    private sealed class ChunkWriter(Action<int, ReadOnlyMemory<byte>> chunk, int chunkBytes)
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(chunkBytes + 4096);

        public List<byte[]> Hashes { get; } = [];

        public long Rows { get; private set; }

        public void Add(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> row)
        {
            ChangedRows.RowWriter.Text(_buffer, table);
            ChangedRows.RowWriter.Bytes(_buffer, key);
            ChangedRows.RowWriter.Bytes(_buffer, row);
            Rows++;
            if (_buffer.WrittenCount > SnapshotManifest.MaxChunkBytes)
            {
                throw new InvalidOperationException($"A row of {table} takes a chunk past {SnapshotManifest.MaxChunkBytes} bytes, more than any transaction can write.");
            }

            if (_buffer.WrittenCount >= chunkBytes)
            {
                Flush();
            }
        }

        public void Flush()
        {
            if (_buffer.WrittenCount == 0)
            {
                return;
            }

            Hashes.Add(SHA256.HashData(_buffer.WrittenSpan));
            chunk(Hashes.Count - 1, _buffer.WrittenMemory);
            _buffer.ResetWrittenCount();
        }
    }

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static ByteOrder Instance { get; } = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
