using LinqToDB;
using LinqToDB.Data;
using LinqToDB.DataProvider.SQLite;

namespace IdOS.Akka.Engine.Storage;

/// <summary>A connection to a node's SQLite file, its folder created if need be, in WAL mode with the given pragmas.</summary>
public static class SqliteFile
{
    /// <summary>Opens <paramref name="path"/>; if a pragma fails, the connection is closed again and the error passed on.</summary>
    public static DataConnection Open(string path, params string[] pragmas)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        var db = new DataConnection(new DataOptions().UseSQLite($"Data Source={path};Pooling=False", SQLiteProvider.Microsoft));
        try
        {
            db.Execute("PRAGMA journal_mode=WAL");
            foreach (var pragma in pragmas)
            {
                db.Execute($"PRAGMA {pragma}");
            }

            return db;
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Copies the WAL into the file and truncates it to zero bytes, so that overwritten pages leave no old copy
    /// behind. False when a reader held it and the WAL could not be emptied this time.
    /// </summary>
    public static bool Checkpoint(DataConnection db)
    {
        ArgumentNullException.ThrowIfNull(db);
        using var reader = db.ExecuteReader("PRAGMA wal_checkpoint(TRUNCATE)");
        return reader.Reader!.Read() && reader.Reader.GetInt64(0) == 0;
    }
}
