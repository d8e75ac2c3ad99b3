// Razorpay Checkout on the portal's payment page: open it, then post its answer to the server,
// which verifies the signature and fetches the payment before crediting anything.
(function () {
  var form = document.getElementById("checkout-return");
  var button = document.getElementById("checkout-open");
  if (!form || !button || typeof window.Razorpay !== "function") return;
  button.addEventListener("click", function () {
    var rzp = new window.Razorpay({
      key: form.dataset.key,
      order_id: form.dataset.order,
      amount: form.dataset.amount,
      currency: "INR",
      name: form.dataset.name,
      handler: function (answer) {
        form.elements.razorpay_order_id.value = answer.razorpay_order_id;
        form.elements.razorpay_payment_id.value = answer.razorpay_payment_id;
        form.elements.razorpay_signature.value = answer.razorpay_signature;
        form.submit();
      },
    });
    rzp.open();
  });
})();
