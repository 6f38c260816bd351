using System.Diagnostics;

namespace IdOS.Akka.Engine.Tests.EndToEnd;

/// <summary>
/// Runs a scenario of Engine.Tests/client-js with node: the real idOS client library, installed by `npm ci` there
/// (.ci/run does it first; a test that finds no install runs it itself). A failed install fails the test.
/// </summary>
internal static class ClientScript
{
    private static readonly SemaphoreSlim Install = new(1, 1);

    public static string Directory
    {
        get
        {
            var folder = new DirectoryInfo(AppContext.BaseDirectory);
            while (folder is not null && !System.IO.Directory.Exists(Path.Combine(folder.FullName, "client-js")))
            {
                folder = folder.Parent;
            }

            return folder is null
                ? throw new InvalidOperationException($"no client-js folder above {AppContext.BaseDirectory}")
                : Path.Combine(folder.FullName, "client-js");
        }
    }

    public static async Task<(int ExitCode, string Output, string Errors)> Run(string script, params string[] arguments)
    {
        var directory = Directory;
        await EnsureInstalled(directory);
        return await Execute(directory, "node", [script, .. arguments]);
    }

    private static async Task EnsureInstalled(string directory)
    {
        await Install.WaitAsync();
        try
        {
            if (!System.IO.Directory.Exists(Path.Combine(directory, "node_modules", "@idos-network", "kwil-js")))
            {
                var (exitCode, output, errors) = await Execute(directory, "npm", ["ci", "--no-audit", "--no-fund"]);
                if (exitCode != 0)
                {
                    throw new InvalidOperationException($"`npm ci` in {directory} failed: {output}{errors}");
                }
            }
        }
        finally
        {
            Install.Release();
        }
    }

    private static async Task<(int ExitCode, string Output, string Errors)> Execute(string directory, string program, IReadOnlyList<string> arguments)
    {
        var info = new ProcessStartInfo(program) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{program} could not be started");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(deadline.Token);
        return (process.ExitCode, await output, await errors);
    }
}
