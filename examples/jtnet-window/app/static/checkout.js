// checkout.js: the merchant's page script. It asks the server to create
// the order, opens Iamport's payment window with IMP.request_pay, and hands
// the result to the server, which verifies it with Iamport before storing
// anything. The same code runs with Iamport's real SDK and with the
// example's stand-in (fake-iamport.js).
(function () {
  'use strict';
  var form = document.getElementById('subscribe-form');
  if (!form) return;
  var status = document.getElementById('status');
  var button = document.getElementById('subscribe');

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    if (typeof window.IMP === 'undefined') {
      status.textContent = '아임포트 SDK를 불러오지 못했습니다.';
      return;
    }
    button.disabled = true;
    status.textContent = '결제창을 여는 중…';
    // 1. The server creates the order: merchant_uid, customer_uid and
    //    amount are decided there, not here.
    fetch(form.action, { method: 'POST', body: new URLSearchParams(new FormData(form)) })
      .then(function (res) {
        if (!res.ok) throw new Error('주문을 만들지 못했습니다 (HTTP ' + res.status + ')');
        return res.json();
      })
      .then(function (params) {
        // 2. Open the payment window: pg 'jtnet', pay_method 'card', a
        //    customer_uid (the billing key's name), amount 0 (key only) or
        //    more (key and first charge), m_redirect_url for mobile.
        window.IMP.init(form.dataset.impCode);
        window.IMP.request_pay(params, function (rsp) {
          // 3. PC: the result arrives here. On mobile the browser goes to
          //    m_redirect_url instead, and this function is not called.
          postResult(rsp);
        });
      })
      .catch(function (err) {
        status.textContent = err.message;
        button.disabled = false;
      });
  });

  // postResult posts rsp to /complete with the field names of
  // m_redirect_url, so that the server reads both with ParseRedirect.
  function postResult(rsp) {
    var fields = {
      imp_uid: rsp.imp_uid || '',
      merchant_uid: rsp.merchant_uid || '',
      imp_success: rsp.success ? 'true' : 'false',
      error_code: rsp.error_code || '',
      error_msg: rsp.error_msg || ''
    };
    var f = document.createElement('form');
    f.method = 'POST';
    f.action = '/complete';
    Object.keys(fields).forEach(function (k) {
      var input = document.createElement('input');
      input.type = 'hidden';
      input.name = k;
      input.value = fields[k];
      f.appendChild(input);
    });
    document.body.appendChild(f);
    f.submit();
  }
})();
