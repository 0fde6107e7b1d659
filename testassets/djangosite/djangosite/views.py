import hashlib
import os

from django.http import FileResponse, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt


def index(request):
    return HttpResponse("django hello", content_type="text/plain")


def environ(request):
    meta = request.META
    return JsonResponse({
        "script_name": meta.get("SCRIPT_NAME"),
        "path_info": meta.get("PATH_INFO"),
        "path": request.path,
        "reverse_form": reverse("form"),
        "absolute": request.build_absolute_uri(),
        "host": request.get_host(),
        "request_id": meta.get("HTTP_X_REQUEST_ID"),
        "query": request.GET.dict(),
    })


def form(request):
    if request.method == "POST":
        return HttpResponse(f"thanks, {request.POST.get('name', '')}", content_type="text/plain")
    return render(request, "form.html")


@csrf_exempt
def upload(request):
    upload = request.FILES["file"]
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    return JsonResponse({"name": upload.name, "size": upload.size, "sha256": digest.hexdigest(),
                         "on_disk": hasattr(upload, "temporary_file_path")})


def stream(request):
    return StreamingHttpResponse((f"chunk {i}\n" for i in range(5)), content_type="text/plain")


def download(request):
    return FileResponse(open(os.path.join(os.path.dirname(__file__), "templates", "form.html"), "rb"),
                        content_type="text/html")


def error(request):
    raise RuntimeError("deliberate failure with secret token hunter2")
