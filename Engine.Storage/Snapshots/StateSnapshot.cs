using System.Buffers;
using System.Buffers.Binary;
using System.Data;
using System.Security.Cryptography;
using IdOS.Akka.Engine.Storage.Execution;
using IdOS.Akka.Engine.Storage.Schema;
using LinqToDB;

namespace IdOS.Akka.Engine.Storage.Snapshots;

/// <summary>
/// What a snapshot of the state holds, without its rows: the height it was taken at, the app hash after that
/// height, how many rows, and the SHA-256 of each chunk in order. <see cref="Root"/> commits to all of it, so a root the
/// chain certifies makes every chunk checkable on its own, whoever sent it.
/// </summary>
public sealed record SnapshotManifest(long Height, byte[] AppHash, long Rows, int ChunkBytes, IReadOnlyList<byte[]> ChunkHashes)
{
    private static readonly byte[] Domain = "idos-state-snapshot-v1"u8.ToArray();

    public byte[] Root
    {
        get
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            Span<byte> number = stackalloc byte[8];
            hash.AppendData(Domain);
            BinaryPrimitives.WriteInt64BigEndian(number, Height);
            hash.AppendData(number);
            hash.AppendData(AppHash);
            BinaryPrimitives.WriteInt64BigEndian(number, Rows);
            hash.AppendData(number);
            BinaryPrimitives.WriteInt64BigEndian(number, ChunkBytes);
            hash.AppendData(number);
            BinaryPrimitives.WriteInt64BigEndian(number, ChunkHashes.Count);
            hash.AppendData(number);
            foreach (var chunk in ChunkHashes)
            {
                hash.AppendData(chunk);
            }

            return hash.GetHashAndReset();
        }
    }
}

/// <summary>
/// Writes the state at its executed height as chunks of rows in one canonical order and encoding, the same on SQLite
/// and PostgreSQL: the idOS tables by name, each row by its key as the app hash encodes changed rows, then the accounts'
/// nonces. Every validator with the same state writes the same chunks and root. Transaction results stay out: they are
/// each block's history, not state a later transaction reads.
/// </summary>
public static class StateSnapshot
{
    public const int DefaultChunkBytes = 1 << 20;

    private const string AccountsTable = "accounts";

    /// <summary>
    /// Reads the whole state in one read transaction and hands each chunk, in order, to <paramref name="chunk"/> (its
    /// index and bytes, valid only during the call). A chunk ends at the first row that takes it to
    /// <paramref name="chunkBytes"/> or beyond.
    /// </summary>
    public static SnapshotManifest Write(StateDatabase state, Action<int, ReadOnlyMemory<byte>> chunk, int chunkBytes = DefaultChunkBytes)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(chunk);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkBytes, 64);
        var db = state.Connection;
        using var transaction = db.BeginTransaction(IsolationLevel.RepeatableRead);
        var executed = db.GetTable<ExecutedBlockRow>().OrderByDescending(b => b.Height).FirstOrDefault()
            ?? throw new InvalidOperationException("The state has executed no block: there is nothing to take a snapshot of.");
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
        transaction.Rollback();
        return new SnapshotManifest(executed.Height, executed.AppHash, writer.Rows, chunkBytes, writer.Hashes);
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
