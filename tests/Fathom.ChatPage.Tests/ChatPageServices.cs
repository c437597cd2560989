using System.Security.Cryptography;
using System.Text;
using Fathom.Testing;
using Microsoft.Playwright;

namespace Fathom.ChatPage.Tests;

/// <summary>
/// What the chat page tests run against, started once per class: a lone engine service on stories260K, one on
/// stories260K speaking DeepSeek-R1's template (served as <c>r1</c>), the API with a key in front of the first, and
/// headless chromium.
/// </summary>
public sealed class ChatPageServices : IAsyncLifetime
{
    /// <summary>The one key the API accepts.</summary>
    public const string ApiKey = "fathom-chat-page-test-key";

    /// <summary>The name the DeepSeek-R1-template engine serves its model under.</summary>
    public const string ReasoningModel = "r1";

    private GgufTemplateCopy? _r1;
    private ServiceProcess? _engine;
    private ServiceProcess? _reasoningEngine;
    private ServiceProcess? _api;
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    /// <summary>The lone engine service on stories260K.</summary>
    public ServiceProcess Engine => _engine ?? throw new InvalidOperationException("the engine did not start");

    /// <summary>The lone engine service whose model has DeepSeek-R1's chat template.</summary>
    public ServiceProcess ReasoningEngine => _reasoningEngine ?? throw new InvalidOperationException("the reasoning engine did not start");

    /// <summary>The API, requiring <see cref="ApiKey"/>, in front of <see cref="Engine"/>.</summary>
    public ServiceProcess Api => _api ?? throw new InvalidOperationException("the API did not start");

    /// <summary>These services, once the model, the template and the browser are known to be present.</summary>
    public ChatPageServices Require()
    {
        _ = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        _ = SharedFixtures.Default.GetPath(GgufTemplateCopy.DeepSeekR1Template);
        _ = SystemChromium.Require();
        _ = _browser ?? throw new InvalidOperationException("the browser did not start");
        return this;
    }

    /// <summary>A page in a fresh browser context (its own localStorage and sessionStorage).</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Require()._browser!.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1100, Height = 760 } });
        // A shared CI machine also runs other suites: give each step room beyond Playwright's defaults.
        context.SetDefaultTimeout(60_000);
        Assertions.SetDefaultExpectTimeout(30_000);
        return await context.NewPageAsync();
    }

    public async ValueTask InitializeAsync()
    {
        if (!SharedFixtures.Default.Exists(SharedFixtures.Stories260K) || !SharedFixtures.Default.Exists(GgufTemplateCopy.DeepSeekR1Template)
            || SystemChromium.Find() is not { } chromium)
        {
            return;
        }

        try
        {
            _r1 = GgufTemplateCopy.DeepSeekR1Stories();
            _engine = await EngineServiceProcess.StartAsync();
            _reasoningEngine = await EngineServiceProcess.StartAsync(_r1.Path, ["--served-model-name", ReasoningModel]);
            _api = await ApiServiceProcess.StartAsync([_engine.BaseAddress], new Dictionary<string, string?>
            {
                ["Fathom__Api__KeyHashes__0"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ApiKey))),
            });
            _playwright = await Playwright.CreateAsync();
            _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = chromium, Headless = true });
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        foreach (var service in new[] { _api, _reasoningEngine, _engine })
        {
            if (service is not null)
            {
                await service.DisposeAsync();
            }
        }

        _r1?.Dispose();
    }
}
