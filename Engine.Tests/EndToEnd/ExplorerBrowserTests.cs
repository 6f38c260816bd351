using System.Text.Json.Nodes;
using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Tests.Cluster;
using Microsoft.Playwright;
using Xunit;

namespace IdOS.Akka.Engine.Tests.EndToEnd;

/// <summary>
/// The explorer page in a real browser (Debian's Chromium driven by Playwright) against four validator processes and
/// an RPC system: the page loads, its height rises, transactions the test submitted are found by hash with their
/// results, their block's page lists them, the validators show their votes, and nothing the transactions carried (their
/// arguments, their senders) is on any page. The browser's console stays free of errors throughout.
/// </summary>
[Trait("Category", "Process")]
[Collection(SerialClusters.Name)]
public sealed class ExplorerBrowserTests
{
    /// <summary>The browser binary itself: `/usr/bin/chromium` is a shell wrapper Playwright cannot drive.</summary>
    private const string Chromium = "/usr/lib/chromium/chromium";

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_explorer_shows_live_blocks_finds_submitted_transactions_with_their_results_and_shows_no_personal_data()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install Debian's chromium package (.ci/run does)");
        using var network = new TestNetwork(4, "idos.consensus.idle-interval = 100ms", application: "idos");
        await using var nodes = new NodeProcesses(network);
        await using var rpc = await RpcProcessTests.StartWithRpc(nodes);
        var root = rpc.Endpoint.GetLeftPart(UriPartial.Authority) + "/";

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            // As root in CI Chromium needs --no-sandbox; the others keep it from reaching for Google's services,
            // which this machine's closed network refuses with console noise.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync"],
        });
        var page = await browser.NewPageAsync();
        page.SetDefaultTimeout((float)Patience.TotalMilliseconds);
        List<string> consoleErrors = [];
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (consoleErrors)
                {
                    consoleErrors.Add(message.Text);
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (consoleErrors)
            {
                consoleErrors.Add(error);
            }
        };

        try
        {
            await page.GotoAsync(root);
            await page.Locator("#blocks tbody tr").First.WaitForAsync();
            Assert.Equal(4, await page.Locator("#validators tbody tr").CountAsync());
            var firstHeight = long.Parse(await page.Locator("#height").InnerTextAsync(), System.Globalization.CultureInfo.InvariantCulture);
            await page.WaitForFunctionAsync($"() => Number(document.getElementById('height').textContent) > {firstHeight}");
            await Expect(page.Locator("#chain-id")).ToHaveTextAsync(network.Chain.ChainId);
            await Expect(page.Locator("#validators tbody tr a").First).ToBeVisibleAsync();

            using var http = new HttpClient();
            var owner = IdosNetworkProcessTests.OwnerOf(network, out var ownerKey);
            using var disposeOwner = ownerKey;
            var stranger = KwilSigner.ForEvm(EvmKey.Generate());
            var ownerNonce = (long)(await RpcProcessTests.Call(http, rpc.Endpoint, "user.account", RpcProcessTests.Account(owner)))["result"]!["nonce"]!;
            const string issuerName = "explorer-issuer-marker";
            var accepted = await Submit(http, rpc.Endpoint, owner.Execute(network.Chain.ChainId, (ulong)ownerNonce + 1, "add_inserter_as_owner",
                [KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfText(issuerName)]));
            var refused = await Submit(http, rpc.Endpoint, stranger.Execute(network.Chain.ChainId, 1, "add_inserter_as_owner",
                [KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfText(issuerName)]));
            Assert.Equal(0, accepted.Code);
            Assert.NotEqual(0, refused.Code);

            foreach (var submitted in new[] { accepted, refused })
            {
                // Found by the search box, with its result and the block it is in.
                await page.FillAsync("#search-input", submitted.Hash);
                await page.ClickAsync("#search button");
                var fields = page.Locator("#tx-fields");
                await Expect(fields).ToContainTextAsync(submitted.Hash);
                await Expect(fields).ToContainTextAsync("add_inserter_as_owner");
                await Expect(fields).ToContainTextAsync(TxCode.Name(submitted.Code));
                await Expect(fields.Locator("a")).ToHaveTextAsync(submitted.Height.ToString(System.Globalization.CultureInfo.InvariantCulture));
                await AssertNoPersonalData(page, issuerName, owner, stranger);

                // Its block's page lists it with the same result.
                await fields.Locator("a").ClickAsync();
                await Expect(page.Locator("#block-height")).ToHaveTextAsync(submitted.Height.ToString(System.Globalization.CultureInfo.InvariantCulture));
                var listed = page.Locator("#block-transactions tbody tr", new() { Has = page.Locator($"a[href='#/tx/{submitted.Hash}']") });
                await Expect(listed).ToHaveCountAsync(1);
                await Expect(listed).ToContainTextAsync("add_inserter_as_owner");
                await Expect(listed).ToContainTextAsync(TxCode.Name(submitted.Code));
                await Expect(page.Locator("#block-fields")).ToContainTextAsync("#");
                await AssertNoPersonalData(page, issuerName, owner, stranger);
            }

            // A height in the search box opens that block; what is neither a height nor a hash is explained.
            await page.FillAsync("#search-input", "1");
            await page.ClickAsync("#search button");
            await Expect(page.Locator("#block-height")).ToHaveTextAsync("1");
            await page.FillAsync("#search-input", "not a hash");
            await page.ClickAsync("#search button");
            await Expect(page.Locator("#problem")).ToContainTextAsync("block height or a transaction hash");

            // Back home, the list goes on rising.
            await page.ClickAsync(".brand");
            var heightNow = await page.Locator("#blocks tbody tr").First.GetAttributeAsync("data-height");
            await page.WaitForFunctionAsync($"() => Number(document.querySelector('#blocks tbody tr')?.dataset.height) > {heightNow}");
            Assert.Matches(@"^\d+(\.\d)?$", await page.Locator("#tps").InnerTextAsync());
        }
        catch (Exception e) when (e is PlaywrightException or TimeoutException or Xunit.Sdk.XunitException)
        {
            throw nodes.WithLogs(new Xunit.Sdk.XunitException($"{e.Message}\nthe page showed: {await Shown(page)}"));
        }

        lock (consoleErrors)
        {
            Assert.True(consoleErrors.Count == 0, "the browser's console has errors:\n" + string.Join("\n", consoleErrors));
        }
    }

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);

    private static async Task<(string Hash, long Height, int Code)> Submit(HttpClient http, Uri endpoint, byte[] transaction)
    {
        var answer = await RpcProcessTests.Broadcast(http, endpoint, transaction, sync: true);
        var result = answer["result"] ?? throw new Xunit.Sdk.XunitException($"the broadcast failed: {answer.ToJsonString()}");
        var hash = (string)result["tx_hash"]!;
        var query = await RpcProcessTests.Call(http, endpoint, "user.tx_query", new JsonObject { ["tx_hash"] = hash });
        return (hash, (long)query["result"]!["height"]!, (int)result["result"]!["code"]!);
    }

    /// <summary>The arguments a transaction carried and the identities that signed it are nowhere on the page.</summary>
    private static async Task AssertNoPersonalData(IPage page, string argument, params KwilSigner[] senders)
    {
        var text = await page.Locator("body").InnerTextAsync();
        Assert.DoesNotContain(argument, text, StringComparison.Ordinal);
        foreach (var sender in senders)
        {
            Assert.DoesNotContain(Convert.ToHexStringLower(sender.Sender), text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(sender.Caller, text, StringComparison.OrdinalIgnoreCase);
        }
    }

    private static async Task<string> Shown(IPage page)
    {
        try
        {
            return await page.Locator("body").InnerTextAsync(new() { Timeout = 2_000 });
        }
        catch (PlaywrightException e)
        {
            return $"(unreadable: {e.Message})";
        }
    }
}
