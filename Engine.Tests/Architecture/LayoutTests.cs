using System.Reflection;
using System.Text.RegularExpressions;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Architecture;

/// <summary>
/// The walls of the layout, checked on the source tree and the built assemblies so that they stay where they are:
/// which process links what, which folder may import which, how long a file may grow, and that the repository
/// stands alone.
/// </summary>
[Trait("Category", "Unit")]
public sealed partial class LayoutTests
{
    private static readonly string[] DatabaseAssemblies = ["linq2db", "Npgsql", "Microsoft.Data.Sqlite", "Engine.Storage"];

    private static readonly string[] Scanned = ["*.cs", "*.conf", "*.md", "*.csproj", "*.props", "run"];

    private static readonly string Root = FindRoot();

    [Fact]
    public void The_rpc_system_and_the_kwil_library_link_no_database()
    {
        foreach (var assembly in new[] { typeof(Engine.Rpc.Http.RpcHttpServer).Assembly, typeof(Kwil.Transactions.KwilTransaction).Assembly })
        {
            var linked = Linked(assembly);
            Assert.DoesNotContain(linked, name => DatabaseAssemblies.Any(database => name.StartsWith(database, StringComparison.Ordinal)));
        }

        Assert.DoesNotContain(Linked(typeof(Kwil.Transactions.KwilTransaction).Assembly), name => name.StartsWith("Akka", StringComparison.Ordinal));

        // The control: what the node links through Engine.Storage is seen.
        Assert.Contains("linq2db", Linked(typeof(Engine.Storage.StateDatabase).Assembly));
        Assert.Contains("linq2db", Linked(typeof(Engine.Hosting.ValidatorNode).Assembly));
    }

    [Fact]
    public void No_project_references_what_the_layout_forbids()
    {
        Assert.DoesNotContain("Engine.Bench", ProjectReferences("Engine.Tests"));
        Assert.DoesNotContain("Engine.Storage", ProjectReferences("Engine.Rpc"));
        Assert.DoesNotContain("Engine", ProjectReferences("Engine.Storage"));
        Assert.Empty(ProjectReferences("Engine.Kwil"));
    }

    [Fact]
    public void Engines_folders_import_one_way_and_the_core_imports_only_crypto()
    {
        var imports = FolderImports();
        Assert.Equal(["Crypto"], imports.GetValueOrDefault("Consensus", []).Order(StringComparer.Ordinal));
        foreach (var folder in imports.Keys)
        {
            var reached = Reachable(imports, folder);
            Assert.False(reached.Contains(folder), $"Engine/{folder} imports itself back through {string.Join(", ", reached.Order(StringComparer.Ordinal))}");
        }
    }

    [Fact]
    public void No_source_file_outside_the_tests_is_longer_than_600_lines()
    {
        var longer = SourceFiles("*.cs")
            .Where(path => !Path.GetRelativePath(Root, path).Split(Path.DirectorySeparatorChar)[0].EndsWith(".Tests", StringComparison.Ordinal))
            .Select(path => (Path: Path.GetRelativePath(Root, path), Lines: File.ReadLines(path).Count()))
            .Where(file => file.Lines > 600)
            .Select(file => $"{file.Path}: {file.Lines}")
            .ToList();
        Assert.True(longer.Count == 0, "longer than 600 lines: " + string.Join("; ", longer));
    }

    [Fact]
    public void No_comment_config_or_doc_names_a_file_outside_the_repository()
    {
        // Spelled in parts, so that this file does not name them either.
        string[] outside = ["../" + "shared", "CONSENSUS" + ".md", "kwil-protocol" + ".md", "hotstuff" + "-anchors", "akka" + "-notes.md", "ab" + ".sh"];
        var found = Scanned
            .SelectMany(SourceFiles)
            .SelectMany(path => File.ReadLines(path).Select((line, index) => (Path: path, Line: index + 1, Text: line)))
            .Where(line => outside.Any(name => line.Text.Contains(name, StringComparison.Ordinal)))
            .Select(line => $"{Path.GetRelativePath(Root, line.Path)}:{line.Line}")
            .ToList();
        Assert.True(found.Count == 0, "names a file outside the repository: " + string.Join(", ", found));
    }

    private static HashSet<string> Linked(Assembly assembly)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<AssemblyName>(assembly.GetReferencedAssemblies());
        while (queue.TryDequeue(out var name))
        {
            // The project's own assemblies are followed to what they link; a package's own references are its business.
            if (name.Name is not { } simple || !seen.Add(simple) || !simple.StartsWith("Engine", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var next in Assembly.Load(name).GetReferencedAssemblies())
            {
                queue.Enqueue(next);
            }
        }

        return seen;
    }

    private static List<string> ProjectReferences(string project) =>
        [.. ProjectReference().Matches(File.ReadAllText(Path.Combine(Root, project, project + ".csproj")))
            .Select(match => match.Groups[1].Value)];

    /// <summary>For each top folder of Engine, the other top folders its files name (in usings or qualified names).</summary>
    private static Dictionary<string, HashSet<string>> FolderImports()
    {
        var engine = Path.Combine(Root, "Engine");
        var folders = Directory.GetDirectories(engine).Select(Path.GetFileName).Where(name => name is not ("bin" or "obj")).ToHashSet(StringComparer.Ordinal);
        var imports = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var folder in folders)
        {
            var named = Directory.EnumerateFiles(Path.Combine(engine, folder!), "*.cs", SearchOption.AllDirectories)
                .SelectMany(path => EngineNamespace().Matches(File.ReadAllText(path)).Select(match => match.Groups[1].Value))
                .Where(name => name != folder && folders.Contains(name))
                .ToHashSet(StringComparer.Ordinal);
            imports[folder!] = named;
        }

        return imports;
    }

    private static HashSet<string> Reachable(Dictionary<string, HashSet<string>> imports, string from)
    {
        var reached = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>(imports.GetValueOrDefault(from, []));
        while (stack.TryPop(out var next))
        {
            if (reached.Add(next))
            {
                foreach (var further in imports.GetValueOrDefault(next, []))
                {
                    stack.Push(further);
                }
            }
        }

        return reached;
    }

    private static IEnumerable<string> SourceFiles(string pattern) =>
        Directory.EnumerateFiles(Root, pattern, SearchOption.AllDirectories)
            .Where(path => !Path.GetRelativePath(Root, path).Split(Path.DirectorySeparatorChar)
                .Any(part => part is "bin" or "obj" or "node_modules" or ".git" or "bench-results" or "BenchmarkDotNet.Artifacts" or "data"));

    private static string FindRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "IdOS.Akka.sln")))
        {
            folder = folder.Parent;
        }

        return folder?.FullName ?? throw new InvalidOperationException($"no IdOS.Akka.sln above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex("""<ProjectReference Include="\.\.\\([^\\"]+)\\""")]
    private static partial Regex ProjectReference();

    [GeneratedRegex(@"IdOS\.Akka\.Engine\.(\w+)")]
    private static partial Regex EngineNamespace();
}
