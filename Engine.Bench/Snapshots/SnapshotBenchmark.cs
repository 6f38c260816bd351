using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using IdOS.Akka.Engine.Cli;
using IdOS.Akka.Engine.Storage;
using IdOS.Akka.Engine.Storage.Schema;
using IdOS.Akka.Engine.Storage.Snapshots;
using LinqToDB;
using LinqToDB.Data;

namespace IdOS.Akka.Engine.Bench.Snapshots;

/// <summary>
/// What a state snapshot costs for a state of N users: the time execution spends writing it (the block that takes it
/// waits that long), its size on disk, and the time a new node spends importing it, on SQLite or into PostgreSQL.
/// Each user has a wallet, two attributes of 300 bytes and a credential of 5 KB, as the idOS SDK writes them; the
/// rows are inserted directly, not executed, since only the snapshot is measured.
/// </summary>
internal static class SnapshotBenchmark
{
    public static Command Definition()
    {
        var users = new Option<int[]>("--users")
        {
            Description = "state sizes in users, comma-separated",
            DefaultValueFactory = _ => [10_000],
            CustomParser = result =>
            {
                var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
                var counts = text.Split(',', StringSplitOptions.RemoveEmptyEntries)
                    .Select(u => int.TryParse(u, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 ? n : 0).ToArray();
                if (counts.Length == 0 || counts.Contains(0))
                {
                    result.AddError($"--users takes counts from 1, comma-separated, e.g. 10000,100000; got '{text}'");
                }

                return counts;
            },
            HelpName = "N,M,...",
        };
        var chunkBytes = CommandLineApp.Count("--chunk-bytes", "bytes per snapshot chunk", StateSnapshot.DefaultChunkBytes, 1024, 64 << 20);
        var postgres = CommandLineApp.Text("--postgres", "a PostgreSQL connection string to import into as well", "", "CONNECTION-STRING");
        var command = new Command("snapshots", "What a state snapshot costs for a state of N users: writing it, its size, importing it.")
        {
            users, chunkBytes, postgres,
        };
        command.SetAction(parse => Run(parse.GetValue(users)!, parse.GetValue(chunkBytes), parse.GetValue(postgres) is { Length: > 0 } pg ? pg : null, parse.Output()));
        return command;
    }

    private static int Run(IReadOnlyList<int> users, int chunkBytes, string? postgres, TextWriter output)
    {
        output.WriteLine("| users | rows | snapshot MB | chunks | write s | import SQLite s | import PostgreSQL s |");
        output.WriteLine("|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var count in users)
        {
            var folder = Directory.CreateTempSubdirectory("idos-snapshot-bench-");
            try
            {
                output.WriteLine(Measure(folder.FullName, count, chunkBytes, postgres));
            }
            finally
            {
                folder.Delete(recursive: true);
            }
        }

        return 0;
    }

    private static string Measure(string folder, int users, int chunkBytes, string? postgres)
    {
        using (var source = StateDatabase.Open(StateStoreOptions.Sqlite(Path.Combine(folder, "source.db"))))
        {
            Fill(source.Connection, users);
        }

        var snapshots = new SnapshotDirectory(Path.Combine(folder, "snapshots"), keep: 1);
        var watch = Stopwatch.StartNew();
        SnapshotOffer offer;
        using (var source = StateDatabase.Open(StateStoreOptions.Sqlite(Path.Combine(folder, "source.db"))))
        {
            var writer = snapshots.Begin(1);
            var manifest = StateSnapshot.Write(source, (index, chunk) => writer.Chunk(index, chunk.Span), chunkBytes);
            offer = new SnapshotOffer(manifest, new byte[32]);
            writer.Complete(offer);
        }

        var write = watch.Elapsed.TotalSeconds;
        var bytes = Directory.EnumerateFiles(snapshots.Path, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        var certified = new CertifiedHeight(1, [1], 0, offer.AppHash);
        var sqlite = Import(StateStoreOptions.Sqlite(Path.Combine(folder, "target.db")), offer, certified, snapshots);
        var pg = postgres is null ? "" : Import(StateStoreOptions.PostgreSql(postgres), offer, certified, snapshots).ToString("F1", CultureInfo.InvariantCulture);
        return string.Create(CultureInfo.InvariantCulture,
            $"| {users:N0} | {offer.Manifest.Rows:N0} | {bytes / 1e6:F1} | {offer.Manifest.ChunkHashes.Count} | {write:F1} | {sqlite:F1} | {pg} |");
    }

    private static double Import(StateStoreOptions options, SnapshotOffer offer, CertifiedHeight certified, SnapshotDirectory snapshots)
    {
        using var target = StateDatabase.Open(options);
        var watch = Stopwatch.StartNew();
        SnapshotImport.Import(target, offer, certified, index => snapshots.Chunk(1, index));
        return watch.Elapsed.TotalSeconds;
    }

    /// <summary>The users' rows in one transaction, then the executed height a snapshot is taken at.</summary>
    private static void Fill(DataConnection db, int users)
    {
        var random = new Random(7);
        string Text(int length) => string.Create(length, random, (span, r) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = (char)('a' + r.Next(26));
            }
        });

        using var transaction = db.BeginTransaction();
        for (var u = 0; u < users; u++)
        {
            var user = Guid.NewGuid();
            db.Insert(new UserRow { Id = user, RecipientEncryptionPublicKey = Text(44), EncryptionPasswordStore = "user", Inserter = "bench" });
            db.Insert(new WalletRow { Id = Guid.NewGuid(), UserId = user, Address = "0x" + Text(40), PublicKey = null, WalletType = "EVM", Message = Text(120), Signature = Text(132) });
            for (var a = 0; a < 2; a++)
            {
                db.Insert(new UserAttributeRow { Id = Guid.NewGuid(), UserId = user, AttributeKey = $"attribute-{a}", Value = Text(300) });
            }

            db.Insert(new CredentialRow
            {
                Id = Guid.NewGuid(), UserId = user, PublicNotes = Text(200), Content = Text(5_000), EncryptorPublicKey = Text(44), IssuerAuthPublicKey = Text(64),
            });
        }

        db.Execute("DELETE FROM row_changes");
        db.Insert(new ExecutedBlockRow { Height = 1, BlockId = [1], AppHash = new byte[32], TimestampMs = 0 });
        transaction.Commit();
    }
}
