// iamport.js: a stand-in for Iamport's JavaScript SDK
// (https://cdn.iamport.kr/v1/iamport.js), served by iamporttest's fake at
// /iamport.js and /v1/iamport.js when it runs with the control API (as
// `iamport fake` does). Load it from the fake in place of the CDN's script;
// IMP.init and IMP.request_pay behave like the real ones for a JTNet billing
// key (pg 'jtnet', a customer_uid):
//
//   - request_pay shows a tiny in-page "card window" (card number, 결제,
//     닫기), or uses params.card_number at once when given (stand-in only);
//   - the window's answer comes from the fake's
//     POST /__fake/window/request_pay (Server.RequestPay): the key is issued
//     (and, with amount > 0, the first payment charged) in the fake;
//   - PC: callback(rsp) with success, imp_uid, merchant_uid, error_code,
//     error_msg (and a few more fields, as the real rsp has);
//   - mobile (a mobile user agent, or ?mobile=1 on the page) with
//     m_redirect_url: the browser goes to
//     m_redirect_url?imp_uid=…&merchant_uid=…&imp_success=true|false
//     (&error_code=…&error_msg=… on failure) and the callback is not called.
//
// Test cards: 4092-0230-1234-5678 approves; a card made to decline through
// the control API (POST /__fake/declines) declines.
(function (window, document) {
  'use strict';
  var script = document.currentScript;
  var endpoint = new URL('/__fake/window/request_pay', script ? script.src : window.location.href).href;
  var GOOD_CARD = '4092-0230-1234-5678';     // iamporttest.DefaultCardNumber: approves
  var DECLINED_CARD = '4000-0000-0000-0002'; // declines when `iamport fake` seeds it (its demo)
  var impCode = null;
  var open = false;

  function isMobile() {
    return /Android|iPhone|iPad|iPod|Mobile/i.test(window.navigator.userAgent) ||
      new URLSearchParams(window.location.search).get('mobile') === '1';
  }

  function init(code) {
    impCode = code;
  }

  function request_pay(params, callback) {
    params = params || {};
    if (!impCode) {
      finish(params, callback, failure(params, 'F0000', 'IMP.init(가맹점 식별코드)을 먼저 호출하세요.'));
      return;
    }
    if (open) return;
    if (params.card_number) {
      submit(params, params.card_number, false, callback, function () {});
      return;
    }
    showWindow(params, callback);
  }

  function failure(params, code, msg) {
    return {
      success: false, imp_uid: null, merchant_uid: params.merchant_uid || null,
      pay_method: 'card', pg_provider: 'jtnet', status: 'failed',
      error_code: code, error_msg: msg
    };
  }

  function toRsp(params, r) {
    if (!r.success) {
      var rsp = failure(params, r.error_code || 'F0000', r.error_msg || '결제에 실패하였습니다.');
      rsp.imp_uid = r.imp_uid || null;
      rsp.merchant_uid = r.merchant_uid || rsp.merchant_uid;
      return rsp;
    }
    return {
      success: true, imp_uid: r.imp_uid, merchant_uid: r.merchant_uid || params.merchant_uid,
      pay_method: 'card', pg_provider: 'jtnet', status: 'paid',
      paid_amount: Number(params.amount) || 0, customer_uid: params.customer_uid,
      error_code: null, error_msg: null
    };
  }

  // finish reports the result as the real SDK does: redirect on mobile,
  // callback on PC.
  function finish(params, callback, rsp) {
    if (params.m_redirect_url && isMobile()) {
      var u = new URL(params.m_redirect_url, window.location.href);
      if (rsp.imp_uid) u.searchParams.set('imp_uid', rsp.imp_uid);
      u.searchParams.set('merchant_uid', rsp.merchant_uid || '');
      u.searchParams.set('imp_success', rsp.success ? 'true' : 'false');
      if (!rsp.success) {
        u.searchParams.set('error_code', rsp.error_code || '');
        u.searchParams.set('error_msg', rsp.error_msg || '');
      }
      window.location.assign(u.href);
      return;
    }
    if (typeof callback === 'function') callback(rsp);
  }

  function submit(params, card, closed, callback, done) {
    var body = {
      pg: String(params.pg || ''), merchant_uid: String(params.merchant_uid || ''),
      name: String(params.name || ''), amount: Number(params.amount) || 0,
      customer_uid: String(params.customer_uid || ''),
      buyer_name: String(params.buyer_name || ''), buyer_email: String(params.buyer_email || ''),
      buyer_tel: String(params.buyer_tel || ''), notice_url: String(params.notice_url || ''),
      card_number: String(card || ''), closed: !!closed
    };
    window.fetch(endpoint, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
      })
      .then(function (r) {
        done();
        finish(params, callback, toRsp(params, r));
      }, function (err) {
        done();
        finish(params, callback, failure(params, 'F0000', '결제창 오류: ' + err.message));
      });
  }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text) e.textContent = text;
    return e;
  }

  function showWindow(params, callback) {
    open = true;
    var overlay = el('div', { id: 'imp-standin-overlay', style: 'position:fixed;inset:0;background:rgba(0,0,0,.45);display:flex;align-items:center;justify-content:center;z-index:9999' });
    var box = el('div', { id: 'imp-standin-window', role: 'dialog', 'aria-label': 'JTNet 결제창 (테스트)', style: 'background:#fff;border-radius:10px;padding:1.25rem;width:20rem;font:15px system-ui,sans-serif;color:#222' });
    var amount = Number(params.amount) || 0;
    box.appendChild(el('h2', { style: 'margin:0 0 .5rem;font-size:1.1rem' }, 'JTNet 결제창 (테스트)'));
    box.appendChild(el('p', { id: 'imp-standin-summary' }, (params.name || '') + ' · ' + (amount > 0 ? amount.toLocaleString('ko-KR') + '원' : '0원 (카드 등록만)')));
    var label = el('label', { 'for': 'imp-standin-card' }, '카드번호');
    var input = el('input', { id: 'imp-standin-card', autocomplete: 'off', inputmode: 'numeric', style: 'display:block;width:100%;margin:.25rem 0 .5rem;font-size:1rem' });
    input.value = GOOD_CARD;
    box.appendChild(label);
    box.appendChild(input);
    box.appendChild(el('p', { style: 'font-size:.8rem;color:#666' }, '테스트 카드: 승인 ' + GOOD_CARD + ' · 거절 ' + DECLINED_CARD));
    var pay = el('button', { id: 'imp-standin-pay', type: 'button' }, '결제');
    var close = el('button', { id: 'imp-standin-close', type: 'button', style: 'margin-left:.5rem' }, '닫기');
    box.appendChild(pay);
    box.appendChild(close);
    overlay.appendChild(box);
    document.body.appendChild(overlay);
    input.focus();

    function done() {
      open = false;
      if (overlay.parentNode) overlay.parentNode.removeChild(overlay);
    }
    function go(closed) {
      pay.disabled = true;
      close.disabled = true;
      submit(params, closed ? '' : input.value, closed, callback, done);
    }
    pay.addEventListener('click', function () { go(false); });
    close.addEventListener('click', function () { go(true); });
  }

  window.IMP = { init: init, request_pay: request_pay };
})(window, document);
