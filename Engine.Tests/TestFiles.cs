namespace IdOS.Akka.Engine.Tests;

/// <summary>Files of the repository that tests read as shipped, found by walking up from the test binaries.</summary>
internal static class TestFiles
{
    public static string NodeConf => File.ReadAllText(Find(Path.Combine("hocon", "node.conf")));

    private static string Find(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"{relative} not found above {AppContext.BaseDirectory}");
    }
}
