using System.Diagnostics;

namespace IdOS.Akka.Engine.Tests.EndToEnd;

/// <summary>
/// Runs a scenario of Engine.Tests/client-js with node: the real idOS client library, installed by `npm ci` there
/// (.ci/run does it). A missing install fails the test with the command that fixes it, rather than skipping it.
/// </summary>
internal static class ClientScript
{
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
        if (!System.IO.Directory.Exists(Path.Combine(directory, "node_modules", "@idos-network", "kwil-js")))
        {
            throw new InvalidOperationException($"the client library is not installed: run `npm ci` in {directory}");
        }

        var info = new ProcessStartInfo("node") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(script);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("node could not be started");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(deadline.Token);
        return (process.ExitCode, await output, await errors);
    }
}
