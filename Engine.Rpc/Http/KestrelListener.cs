using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace IdOS.Akka.Engine.Rpc.Http;

/// <summary>
/// A minimal Kestrel application on one endpoint, as every listener here is built: no server header, no framework
/// logging (the process logs what it serves), routes mapped by the caller between build and start.
/// </summary>
internal static class KestrelListener
{
    public static WebApplication Build(IPEndPoint endpoint, Action<KestrelServerOptions>? limits = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(options =>
        {
            options.AddServerHeader = false;
            limits?.Invoke(options);
            options.Listen(endpoint);
        });
        return builder.Build();
    }

    /// <summary>Starts it and returns where it listens, with the port the OS chose when 0 was asked for.</summary>
    public static async Task<Uri> Start(WebApplication app)
    {
        await app.StartAsync();
        return app.Urls.Select(url => new Uri(url)).First();
    }
}
