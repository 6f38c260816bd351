using System.Security.Cryptography;
using IdOS.Akka.Engine.Storage.Execution;
using IdOS.Akka.Engine.Storage.Schema;
using LinqToDB;
using LinqToDB.Data;

namespace IdOS.Akka.Engine.Storage.Snapshots;

/// <summary>What the chain certifies about a snapshot's height: the block there, its time, and the app hash recorded after it.</summary>
public sealed record CertifiedHeight(long Height, byte[] BlockId, long TimestampMs, byte[] AppHash);

/// <summary>A snapshot refused: its offer does not match the chain, or the state it would go into is not empty.</summary>
public class SnapshotRefusedException(string message) : Exception(message);

/// <summary>A chunk whose bytes are not the ones the manifest lists: its sender lied or its copy is damaged; fetch it elsewhere.</summary>
public sealed class SnapshotChunkException(int index, string message) : SnapshotRefusedException(message)
{
    public int Index { get; } = index;
}

/// <summary>
/// Puts a snapshot into an empty state, on SQLite or PostgreSQL, in one transaction: the state is either untouched or
/// at the snapshot's height with the certified app hash, ready to execute the next block. Nothing is taken on the
/// sender's word: the offer must fold to the certified app hash, every chunk must hash to its listed hash (checked
/// again as it is read, so a copy damaged on disk is caught too), the rows must come in the writer's order, and the
/// state they make must give the same root again before the transaction commits.
/// </summary>
public static class SnapshotImport
{
    /// <summary>
    /// Imports <paramref name="offer"/>, reading chunk <c>i</c> through <paramref name="chunk"/> (twice for a chunk
    /// that holds the end of one table and the start of another: rows go in so that each table's foreign keys find
    /// their rows, and chunks come in table-name order).
    /// </summary>
    public static void Import(StateDatabase state, SnapshotOffer offer, CertifiedHeight certified, Func<int, ReadOnlyMemory<byte>> chunk)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(offer);
        ArgumentNullException.ThrowIfNull(certified);
        ArgumentNullException.ThrowIfNull(chunk);
        var manifest = offer.Manifest;
        if (manifest.Height != certified.Height)
        {
            throw new SnapshotRefusedException($"The snapshot is of height {manifest.Height}, the certified block of height {certified.Height}.");
        }

        if (!offer.IsCertifiedBy(certified.AppHash))
        {
            throw new SnapshotRefusedException(
                $"The snapshot's root and block app hash give app hash {Convert.ToHexStringLower(offer.AppHash)} at height {certified.Height}, " +
                $"where the chain certified {Convert.ToHexStringLower(certified.AppHash)}.");
        }

        var db = state.Connection;
        using var transaction = db.BeginTransaction();
        RefuseUnlessEmpty(db);
        var spans = TableSpans(manifest, chunk);
        var statements = PreparedStatements.Of(db);
        foreach (var table in ChangedRows.TablesInDependencyOrder.Append(StateSnapshot.AccountsTable))
        {
            if (!spans.TryGetValue(table, out var span))
            {
                continue;
            }

            for (var index = span.First; index <= span.Last; index++)
            {
                ForEachEntry(index, Verified(manifest, index, chunk), (name, key, row) =>
                {
                    if (name == table)
                    {
                        Insert(statements, name, key, row);
                    }
                });
            }
        }

        statements.Execute("DELETE FROM row_changes");
        var rebuilt = StateSnapshot.WriteInTransaction(db, manifest.Height, (_, _) => { }, manifest.ChunkBytes);
        if (!rebuilt.Root.AsSpan().SequenceEqual(manifest.Root))
        {
            throw new SnapshotRefusedException(
                $"The imported state gives root {Convert.ToHexStringLower(rebuilt.Root)}, not the snapshot's {Convert.ToHexStringLower(manifest.Root)}: its rows do not encode as they were written.");
        }

        db.Insert(new ExecutedBlockRow { Height = certified.Height, BlockId = certified.BlockId, AppHash = certified.AppHash, TimestampMs = certified.TimestampMs });
        transaction.Commit();
    }

    private static void RefuseUnlessEmpty(DataConnection db)
    {
        var statements = PreparedStatements.Of(db);
        foreach (var table in ChangedRows.TablesInDependencyOrder.Append(StateSnapshot.AccountsTable).Append("executed_blocks"))
        {
            if (statements.Exists($"SELECT 1 FROM {table} LIMIT 1"))
            {
                throw new SnapshotRefusedException($"A snapshot goes into an empty state only, and {table} has rows: start from an empty data folder or database.");
            }
        }
    }

    /// <summary>
    /// The first pass: each chunk checked against its hash and parsed, every entry in order (tables in the writer's
    /// order, keys strictly rising within a table), the row count as the manifest says; where each table's rows start
    /// and end.
    /// </summary>
    private static Dictionary<string, (int First, int Last)> TableSpans(SnapshotManifest manifest, Func<int, ReadOnlyMemory<byte>> chunk)
    {
        var spans = new Dictionary<string, (int First, int Last)>(StringComparer.Ordinal);
        string? lastTable = null;
        byte[] lastKey = [];
        long rows = 0;
        for (var index = 0; index < manifest.ChunkHashes.Count; index++)
        {
            var current = index;
            ForEachEntry(index, Verified(manifest, index, chunk), (table, key, _) =>
            {
                var byTable = lastTable is null ? 1 : CompareTables(table, lastTable);
                if (byTable < 0 || (byTable == 0 && key.SequenceCompareTo(lastKey) <= 0))
                {
                    throw new SnapshotChunkException(current, $"Chunk {current} breaks the snapshot's order at a row of {table}.");
                }

                if (!ChangedRows.IsTracked(table) && table != StateSnapshot.AccountsTable)
                {
                    throw new SnapshotChunkException(current, $"Chunk {current} holds rows of '{table}', which is not a table of the idOS state.");
                }

                spans[table] = spans.TryGetValue(table, out var span) ? (span.First, current) : (current, current);
                if (byTable != 0)
                {
                    lastTable = table;
                }

                lastKey = key.ToArray();
                rows++;
            });
        }

        return rows == manifest.Rows ? spans
            : throw new SnapshotRefusedException($"The snapshot's chunks hold {rows} rows; its manifest says {manifest.Rows}.");
    }

    /// <summary>The writer's order: the idOS tables by name, then the accounts.</summary>
    private static int CompareTables(string x, string y) =>
        (x == StateSnapshot.AccountsTable).CompareTo(y == StateSnapshot.AccountsTable) is var accountsLast and not 0 ? accountsLast : string.CompareOrdinal(x, y);

    private static ReadOnlyMemory<byte> Verified(SnapshotManifest manifest, int index, Func<int, ReadOnlyMemory<byte>> chunk)
    {
        var bytes = chunk(index);
        if (bytes.Length > SnapshotManifest.MaxChunkBytes)
        {
            throw new SnapshotChunkException(index, $"Chunk {index} has {bytes.Length} bytes, more than any chunk may.");
        }

        return SHA256.HashData(bytes.Span).AsSpan().SequenceEqual(manifest.ChunkHashes[index]) ? bytes
            : throw new SnapshotChunkException(index, $"Chunk {index} does not hash to the manifest's hash for it.");
    }

    private delegate void EntryVisitor(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> row);

    private static void ForEachEntry(int index, ReadOnlyMemory<byte> chunk, EntryVisitor visit)
    {
        var input = chunk.Span;
        try
        {
            while (!input.IsEmpty)
            {
                var table = ChangedRows.RowReader.Utf8Text(ref input);
                var key = ChangedRows.RowReader.LengthPrefixed(ref input);
                var row = ChangedRows.RowReader.LengthPrefixed(ref input);
                visit(table, key, row);
            }
        }
        catch (FormatException e)
        {
            throw new SnapshotChunkException(index, $"Chunk {index} does not parse: {e.Message}");
        }
    }

    private static void Insert(PreparedStatements statements, string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> row)
    {
        if (table != StateSnapshot.AccountsTable)
        {
            ChangedRows.InsertRow(statements, table, row);
            return;
        }

        var identifier = ChangedRows.RowReader.LengthPrefixed(ref key).ToArray();
        var keyType = ChangedRows.RowReader.Utf8Text(ref key);
        var nonce = ChangedRows.RowReader.Value(ref row, ChangedRows.ColumnKind.Integer, typeof(long));
        if (!key.IsEmpty || !row.IsEmpty || nonce is null)
        {
            throw new FormatException("An account's key or nonce carries more or less than an account has.");
        }

        statements.Insert(new AccountRow { Identifier = identifier, KeyType = keyType, Nonce = (long)nonce });
    }
}
