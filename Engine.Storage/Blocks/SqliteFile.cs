using LinqToDB;
using LinqToDB.Data;
using LinqToDB.DataProvider.SQLite;

namespace IdOS.Akka.Engine.Storage.Blocks;

/// <summary>A connection to a node's SQLite file, its folder created if need be, in WAL mode with the given pragmas.</summary>
internal static class SqliteFile
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
}
