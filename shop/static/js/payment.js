/* The payment page: Stripe.js's Card Element makes a token in the browser; our form posts its id.
 * Alipay and WeChat Pay (real Stripe only) are confirmed here in the browser with the intent's client secret:
 * Alipay leaves for Alipay and comes back to the order page, WeChat Pay shows its QR code over this page.
 *
 * Loaded after Stripe.js (real, or the local emulator's fake one). Nothing inline: the page's CSP allows only
 * our own scripts and the Stripe.js origin. Words come from the form's data- attributes (in the UI language).
 */
(function () {
  "use strict";

  var form = document.getElementById("payment-form");
  if (!form) {
    return;
  }
  var errors = document.getElementById("card-errors");
  var button = document.getElementById("pay-button");
  var cardField = form.querySelector('input[name="card"]');
  var label = button.textContent;

  function showError(message) {
    errors.textContent = message || "";
  }

  if (typeof window.Stripe !== "function") {
    showError(form.dataset.msgUnavailable);
    return;
  }

  var stripe = window.Stripe(form.dataset.stripeKey, { locale: form.dataset.locale === "zh" ? "zh" : "en" });

  // A card that asks for authentication (3-D Secure): finish it here, then show the order.
  if (form.dataset.actionSecret) {
    stripe.confirmCardPayment(form.dataset.actionSecret).then(function (result) {
      if (result && result.error) {
        showError(result.error.message || form.dataset.msgCardInvalid);
      } else {
        window.location.assign(form.dataset.returnUrl);
      }
    });
  }

  var wallets = document.getElementById("wallets");
  if (wallets) {
    var walletErrors = document.getElementById("wallet-errors");
    var walletButtons = wallets.querySelectorAll("button[data-wallet]");
    var setWalletsBusy = function (isBusy) {
      Array.prototype.forEach.call(walletButtons, function (walletButton) {
        walletButton.disabled = isBusy;
      });
    };
    var confirmWallet = function (kind) {
      var secret = wallets.dataset.clientSecret;
      if (kind === "alipay") {
        // Leaves for Alipay; Stripe brings the buyer back to return_url?payment_intent=…
        return stripe.confirmAlipayPayment(secret, { return_url: wallets.dataset.returnUrl });
      }
      return stripe.confirmWechatPayPayment(secret, { payment_method_options: { wechat_pay: { client: "web" } } });
    };
    Array.prototype.forEach.call(walletButtons, function (walletButton) {
      walletButton.addEventListener("click", function () {
        walletErrors.textContent = "";
        setWalletsBusy(true);
        Promise.resolve()
          .then(function () {
            return confirmWallet(walletButton.dataset.wallet);
          })
          .then(function (result) {
            if (!result || result.error) {
              throw new Error(result && result.error && result.error.message);
            }
            var intent = result.paymentIntent;
            if (!intent || (intent.status !== "succeeded" && intent.status !== "processing")) {
              throw new Error(""); // e.g. the QR code was closed unpaid
            }
            // The order page reads the intent at once rather than wait for the webhook.
            window.location.assign(wallets.dataset.returnUrl + "?payment_intent=" + encodeURIComponent(intent.id));
          })
          .catch(function (error) {
            walletErrors.textContent = (error && error.message) || wallets.dataset.msgFailed;
            setWalletsBusy(false);
          });
      });
    });
    setWalletsBusy(false);
  }

  var card = stripe.elements().create("card", { hidePostalCode: true });
  card.mount("#card-element");
  card.on("change", function (event) {
    showError(event && event.error ? event.error.message : "");
  });
  button.disabled = false;

  var busy = false;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) {
      return;
    }
    busy = true;
    button.disabled = true;
    button.textContent = form.dataset.msgBusy;
    showError("");
    Promise.resolve()
      .then(function () {
        return stripe.createToken(card);
      })
      .then(function (result) {
        if (!result || result.error || !result.token) {
          var message = result && result.error && result.error.message;
          // The emulator answers a malformed card with a bare "Bad request": say what to check instead.
          throw new Error(message && message !== "Bad request" ? message : form.dataset.msgCardInvalid);
        }
        cardField.value = result.token.id;
        form.submit(); // does not fire "submit" again; the server confirms the payment and answers with a page
      })
      .catch(function (error) {
        // Stripe's own message when it gave one; ours for anything else (e.g. an empty card form).
        showError(error instanceof TypeError ? form.dataset.msgCardInvalid : error.message);
        busy = false;
        button.disabled = false;
        button.textContent = label;
      });
  });
})();
